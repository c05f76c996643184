"""Row locks of the delivery app, always taken in one global order so two
transactions never wait on each other in a cycle:

    zone → orders (pk order) → deliveries (pk order) → courier/vehicle rows

The dispatch write phase takes zone, orders, deliveries; the courier flow
takes the order (`sales.locks.order_lock`), then its delivery; a
dispatcher's move takes the zone, then deliveries. Each helper forces its
query to run.

`zone_planning_lock` is a PostgreSQL session advisory lock per zone: at most
one dispatch plans a zone at a time (another run skips it). It only saves
duplicate solver work: correctness comes from the row locks, the zone's plan
version and the unique index on active deliveries. PostgreSQL drops the lock
with the session, so a worker that dies mid-run does not leave it behind."""

from __future__ import annotations

from contextlib import contextmanager

from django.db import connection

from delivery.models import Courier, Delivery, Equipment, Shipment, Vehicle, Zone
from sales.models import Order

# Namespace (first key) of the delivery app's advisory locks.
ADVISORY_NAMESPACE = 0x0DE1


def zone_lock(*, zone_id: int) -> Zone:
    return Zone.objects.select_for_update().get(pk=zone_id)


def orders_lock(*, order_ids) -> dict[int, Order]:
    rows = (Order.objects.select_for_update(of=("self",)).select_related("customer")
            .filter(pk__in=sorted(set(order_ids))).order_by("pk"))
    return {order.pk: order for order in rows}


def deliveries_lock(*, delivery_ids) -> dict[int, Delivery]:
    rows = (Delivery.objects.select_for_update(of=("self",))
            .select_related("order").filter(pk__in=sorted(set(delivery_ids))).order_by("pk"))
    return {d.pk: d for d in rows}


def delivery_lock(*, delivery_id: int) -> Delivery:
    return (Delivery.objects.select_for_update(of=("self",))
            .select_related("order", "order__customer", "courier", "zone")
            .get(pk=delivery_id))


def courier_lock(*, courier_id: int) -> Courier:
    return Courier.objects.select_for_update().get(pk=courier_id)


def vehicle_lock(*, vehicle_id: int) -> Vehicle:
    return Vehicle.objects.select_for_update().get(pk=vehicle_id)


def equipment_lock(*, equipment_id: int) -> Equipment:
    return Equipment.objects.select_for_update().get(pk=equipment_id)


def shipment_lock(*, shipment_id: int) -> Shipment:
    return Shipment.objects.select_for_update(of=("self",)).select_related(
        "order", "order__customer", "carrier").get(pk=shipment_id)


@contextmanager
def zone_planning_lock(*, zone_id: int):
    """Try to take the zone's planning lock; yields whether it was taken.

    On databases without advisory locks (SQLite quick start) it always
    yields True: there is a single process there."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [ADVISORY_NAMESPACE, zone_id])
        taken = bool(cursor.fetchone()[0])
    try:
        yield taken
    finally:
        if taken:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [ADVISORY_NAMESPACE, zone_id])
