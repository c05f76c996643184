"""Dispatch one zone (000 配送流程規範 1, 車輛調度; 003 04 路線規劃).

    snapshot (reads) → plan (solver, no transaction open) → write (one short
    transaction)

No order is ever assigned twice, by design in three layers:

1. `zone_planning_lock` (advisory, per zone): a second run of the same zone
   while one is planning skips it, so overlapping cycles do not waste solver
   time on the same zone.
2. The write transaction locks the zone row and checks the zone's
   `plan_version` against the snapshot; any other write to the plan since
   (another run, a dispatcher's move) makes this plan stale and it is
   planned again from fresh data. It then locks the new orders and the
   zone's active deliveries in pk order and re-checks each: still open,
   still without an active delivery, the courier still dispatchable (their
   row and vehicle locked too).
3. The partial unique index `delivery_one_active_per_order`: whatever code
   path, an order cannot hold two active deliveries; a violation rolls the
   whole zone write back.

A worker that dies mid-run leaves nothing half-written (the write is one
transaction; the advisory lock goes with its session); Celery re-delivers
the task (acks late) and the next run starts from the database state.

Re-planning keeps picked-up stops on their courier (the goods are in their
box) and, by default, assigned stops too while their courier may still be
dispatched (`policy.replan_keeps_assignments`): the new plan inserts new
orders and re-orders routes, warm-started from the current plan, instead of
shuffling stops between couriers every cycle. A courier who can no longer be
dispatched frees their assigned stops for the others.
"""

from __future__ import annotations

import logging
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from delivery import policy, selectors
from delivery.dispatch.adapter import (
    CourierIn,
    PlanOut,
    StopIn,
    build_problem,
    read_plan,
)
from delivery.enums import (
    ACTIVE_DELIVERY_STATUSES,
    DeliveryEventKind,
    DeliveryStatus,
    DispatchRunStatus,
)
from delivery.locks import deliveries_lock, orders_lock, zone_lock, zone_planning_lock
from delivery.models import Courier, Delivery, DeliveryEvent, DispatchRun, Vehicle, Zone
from delivery.notifications import handover_code_notification
from delivery.routing import plan_routes
from sales.enums import Fulfilment

logger = logging.getLogger(__name__)
ACTOR = "dispatch"


class StalePlan(Exception):
    """The zone's plan changed while this run was planning."""


@dataclass
class Snapshot:
    zone: Zone
    version: int
    now: datetime
    stops: list[StopIn]
    couriers: list[CourierIn]
    previous_routes: dict[int, list[int]]
    existing: dict[int, Delivery]            # delivery id → delivery (active)
    orphaned: list[int]                      # active deliveries whose order was cancelled
    waiting: int = 0                         # open orders left for a later cycle (no room)


def _shift(courier: Courier, now: datetime) -> tuple[datetime, datetime]:
    day = timezone.localdate(now)
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(day, courier.shift_start), tz)
    end = timezone.make_aware(datetime.combine(day, courier.shift_end), tz)
    return start, end


def _courier_in(courier: Courier, now: datetime, *, may_take_new: bool) -> CourierIn:
    start, end = _shift(courier, now)
    vehicle = courier.vehicle
    return CourierIn(courier_id=courier.pk,
                     capacity_kg=vehicle.capacity_weight_kg if vehicle else 0,
                     capacity_l=vehicle.capacity_volume_l if vehicle else 0,
                     shift_start=start, shift_end=end, may_take_new=may_take_new)


def snapshot_take(*, zone_id: int, now: datetime | None = None) -> Snapshot:
    """Everything the plan needs, read without locks."""
    now = now or timezone.now()
    zone = Zone.objects.select_related("hub").get(pk=zone_id)
    classes = selectors.priority_classes()
    existing = {d.pk: d for d in selectors.zone_active_deliveries(zone=zone)}
    orphaned = [d.pk for d in existing.values()
                if d.status == DeliveryStatus.ASSIGNED
                and d.order.status not in selectors.DISPATCHABLE_ORDER_STATUSES]
    live = {pk: d for pk, d in existing.items() if pk not in orphaned}

    dispatchable = list(selectors.couriers_dispatchable(zone=zone, at=now))
    couriers = [_courier_in(c, now, may_take_new=True) for c in dispatchable]
    fit = {c.pk for c in dispatchable}
    keep = policy.replan_keeps_assignments()

    stops: list[StopIn] = []
    previous: dict[int, list[int]] = {}
    for d in live.values():
        order = d.order
        # Picked-up goods stay with their courier; so do assigned stops while
        # their courier may still be dispatched (stable routes), re-sequenced
        # around new stops. A courier who can no longer be dispatched frees
        # their assigned stops for the others.
        pinned = d.status == DeliveryStatus.PICKED_UP or (keep and d.courier_id in fit)
        stops.append(StopIn(
            order_id=order.pk, lat=_f(order.lat), lng=_f(order.lng),
            weight_grams=d.weight_grams, volume_l=d.volume_l, items=d.items,
            promised_start=d.promised_start, promised_end=d.promised_end, delivery_id=d.pk,
            pinned_courier=d.courier_id if pinned else None))
        previous.setdefault(d.courier_id, []).append(order.pk)

    holding = {d.courier_id for d in live.values() if d.status == DeliveryStatus.PICKED_UP}
    missing = holding - fit
    for courier in Courier.objects.filter(pk__in=missing).select_related("vehicle"):
        couriers.append(_courier_in(courier, now, may_take_new=False))

    # Admission by priority (zone × priority grouping): the fleet's free
    # weight and volume go to urgent orders first, then member, then normal;
    # the earliest promise first within a class. What does not fit waits.
    free_units = sum(policy.capacity_units(c.capacity_kg) for c in couriers if c.may_take_new)
    holding_only = {c.courier_id for c in couriers if not c.may_take_new}
    placed = [s for s in stops if s.pinned_courier not in holding_only or s.pinned_courier is None]
    free_units -= sum(policy.load_units(s.weight_grams) for s in placed)
    free_l = sum(c.capacity_l for c in couriers if c.may_take_new)
    free_l -= sum(s.volume_l for s in placed)
    horizon = now + policy.dispatch_horizon()
    candidates = list(selectors.orders_awaiting_dispatch(zone=zone, until=horizon))
    candidates.sort(key=lambda o: (classes[o.priority][0],
                                   o.window_end or o.created_at, o.pk))
    room = max(0, policy.max_stops_per_zone() - len(stops))
    waiting = 0
    for order in candidates:
        if room <= 0:
            waiting += 1
            continue
        start, end = policy.promised_window(
            window_start=order.window_start, window_end=order.window_end,
            created_at=order.created_at, promise_hours=classes[order.priority][1])
        items = int(order.item_count or 1)
        stop = StopIn(
            order_id=order.pk, lat=_f(order.lat), lng=_f(order.lng),
            weight_grams=int(order.weight_grams or 0), volume_l=policy.parcel_volume_l(items),
            items=items, promised_start=start, promised_end=end)
        units = policy.load_units(stop.weight_grams)
        if units > free_units or stop.volume_l > free_l:
            waiting += 1
            continue
        free_units -= units
        free_l -= stop.volume_l
        room -= 1
        stops.append(stop)
    return Snapshot(zone=zone, version=zone.plan_version, now=now, stops=stops,
                    couriers=couriers, previous_routes=previous, existing=live,
                    orphaned=orphaned, waiting=waiting)


def _f(value) -> float | None:
    return None if value is None else float(value)


def plan_compute(snapshot: Snapshot, *, seconds: float) -> PlanOut:
    """Run the planner (soft windows, warm start from the current plan)."""
    zone = snapshot.zone
    centre = (float(zone.centre_lat), float(zone.centre_lng))
    hub = zone.hub
    depot_at = ((float(hub.lat), float(hub.lng)) if hub is not None and hub.lat is not None
                and hub.lng is not None else centre)
    if not snapshot.couriers or not snapshot.stops:
        return PlanOut(routes={}, unassigned=[s.order_id for s in snapshot.stops],
                       distance_m=0, lateness_s=0, volume_trimmed=[])
    problem = build_problem(centre=centre, depot_at=depot_at, stops=snapshot.stops,
                            couriers=snapshot.couriers,
                            previous_routes=snapshot.previous_routes, now=snapshot.now)
    plan = plan_routes(depot=problem.depot, stops=problem.stops, vehicles=problem.vehicles,
                       seconds=seconds, warm_start=problem.warm_start,
                       hard_time_windows=False, speed=policy.SPEED_M_PER_S,
                       lateness_penalty=policy.LATENESS_PENALTY_M_PER_S,
                       seed=zone.pk)
    return read_plan(plan=plan, problem=problem, stops=snapshot.stops,
                     couriers=snapshot.couriers)


def _event(delivery: Delivery, kind: str, *, from_status: str = "", to_status: str = "",
           note: str = "", data: dict | None = None) -> DeliveryEvent:
    return DeliveryEvent(delivery=delivery, kind=kind, from_status=from_status,
                         to_status=to_status, actor_label=ACTOR, note=note[:255],
                         data=data or {})


def _notifications_for(deliveries: list[Delivery]) -> None:
    """The hand-over code goes to the customer with the assignment."""
    from delivery.models import CustomerNotification

    CustomerNotification.objects.bulk_create(handover_code_notification(delivery=d, save=False)
                                             for d in deliveries)


def plan_write(snapshot: Snapshot, result: PlanOut) -> dict[str, int]:
    """Write the plan in one transaction (see the module doc for the checks)."""
    counts = {"assigned": 0, "kept": 0, "moved": 0, "cancelled": 0, "skipped": 0,
              "unassigned": 0}
    now = snapshot.now
    stops = {s.order_id: s for s in snapshot.stops}
    with transaction.atomic():
        zone = zone_lock(zone_id=snapshot.zone.pk)
        if zone.plan_version != snapshot.version:
            raise StalePlan
        new_ids = [oid for route in result.routes.values() for oid in route.order_ids
                   if stops[oid].delivery_id is None]
        orders = orders_lock(order_ids=new_ids)
        current = deliveries_lock(delivery_ids=[*snapshot.existing, *snapshot.orphaned])
        courier_ids = sorted(result.routes)
        couriers = {c.pk: c for c in Courier.objects.select_for_update()
                    .filter(pk__in=courier_ids).order_by("pk")}
        list(Vehicle.objects.select_for_update()
             .filter(pk__in=[c.vehicle_id for c in couriers.values() if c.vehicle_id])
             .order_by("pk"))
        allowed = set(selectors.couriers_dispatchable(zone=zone, at=now)
                      .filter(pk__in=courier_ids).values_list("pk", flat=True))
        taken = set(Delivery.objects.filter(order_id__in=new_ids,
                                            status__in=ACTIVE_DELIVERY_STATUSES)
                    .values_list("order_id", flat=True))

        events: list[DeliveryEvent] = []
        created: list[Delivery] = []
        updated: list[Delivery] = []
        placed: set[int] = set()
        for courier_id, route in sorted(result.routes.items()):
            courier = couriers[courier_id]
            sequence = 0
            for order_id in route.order_ids:
                stop = stops[order_id]
                eta = route.etas.get(order_id)
                if stop.delivery_id is not None:
                    delivery = current.get(stop.delivery_id)
                    if delivery is None or delivery.status not in ACTIVE_DELIVERY_STATUSES:
                        continue  # closed meanwhile (delivered, failed…)
                    if (delivery.status == DeliveryStatus.ASSIGNED
                            and courier_id not in allowed):
                        continue  # courier no longer dispatchable: freed below
                    placed.add(delivery.pk)
                    moving = delivery.courier_id != courier_id
                    if moving and delivery.status != DeliveryStatus.ASSIGNED:
                        counts["kept"] += 1  # picked up meanwhile: stays with its courier
                        continue
                    sequence += 1
                    if moving:
                        events.append(_event(delivery, DeliveryEventKind.REASSIGNED,
                                             data={"from": delivery.courier_id,
                                                   "to": courier_id}))
                        delivery.courier_id = courier_id
                        delivery.vehicle_id = courier.vehicle_id
                        counts["moved"] += 1
                    else:
                        counts["kept"] += 1
                    delivery.sequence, delivery.eta, delivery.updated_at = sequence, eta, now
                    updated.append(delivery)
                    continue
                order = orders.get(order_id)
                if (order is None or order_id in taken or courier_id not in allowed
                        or order.fulfilment != Fulfilment.DELIVERY
                        or order.status not in selectors.DISPATCHABLE_ORDER_STATUSES):
                    counts["skipped"] += 1
                    continue
                sequence += 1
                delivery = Delivery(
                    order=order, zone=zone, courier_id=courier_id,
                    vehicle_id=courier.vehicle_id, status=DeliveryStatus.ASSIGNED,
                    sequence=sequence, eta=eta, promised_start=stop.promised_start,
                    promised_end=stop.promised_end, weight_grams=stop.weight_grams,
                    volume_l=stop.volume_l, items=stop.items,
                    handover_code=policy.handover_code_new(), assigned_at=now)
                created.append(delivery)
        dropped = [d for pk, d in current.items()
                   if pk not in placed and d.status == DeliveryStatus.ASSIGNED]
        for delivery in dropped:
            orphan = delivery.pk in snapshot.orphaned
            events.append(_event(delivery, DeliveryEventKind.CANCELLED,
                                 from_status=delivery.status, to_status=DeliveryStatus.CANCELLED,
                                 note="order no longer open" if orphan
                                 else "re-planned: no room on any route"))
            delivery.status = DeliveryStatus.CANCELLED
            delivery.closed_at = delivery.updated_at = now
            updated.append(delivery)
            counts["cancelled"] += 1

        Delivery.objects.bulk_create(created)  # the unique index is the backstop
        for delivery in created:
            events.append(_event(delivery, DeliveryEventKind.ASSIGNED,
                                 to_status=DeliveryStatus.ASSIGNED,
                                 data={"courier": delivery.courier_id,
                                       "sequence": delivery.sequence}))
        _notifications_for(created)
        Delivery.objects.bulk_update(updated, ["courier", "vehicle", "sequence", "eta", "status",
                                               "closed_at", "updated_at"], batch_size=500)
        DeliveryEvent.objects.bulk_create(events, batch_size=1000)
        zone.plan_version += 1
        zone.planned_at = now
        zone.save(update_fields=["plan_version", "planned_at"])
        counts["assigned"] = len(created)
        counts["unassigned"] = len(result.unassigned) + counts["skipped"]
        counts["plan_version"] = zone.plan_version
    return counts


def _finish(run: DispatchRun, status: str, **fields) -> DispatchRun:
    run.status = status
    run.finished_at = timezone.now()
    for name, value in fields.items():
        setattr(run, name, value)
    run.save()
    return run


def dispatch_zone(*, zone_id: int, seconds: float | None = None, now: datetime | None = None,
                  attempts: int = 3) -> DispatchRun:
    """Plan and write one zone; returns its DispatchRun record (also written
    when the run skips or fails)."""
    seconds = policy.solver_seconds() if seconds is None else seconds
    run = DispatchRun.objects.create(zone_id=zone_id)
    try:
        with zone_planning_lock(zone_id=zone_id) as taken:
            if not taken:
                return _finish(run, DispatchRunStatus.SKIPPED,
                               note="another run is planning this zone")
            for _attempt in range(attempts):
                snapshot = snapshot_take(zone_id=zone_id, now=now)
                if not snapshot.stops and not snapshot.orphaned:
                    return _finish(run, DispatchRunStatus.SUCCEEDED, plan_version=snapshot.version,
                                   counts={"candidates": 0, "couriers": len(snapshot.couriers),
                                           "assigned": 0, "waiting": snapshot.waiting})
                started = time.perf_counter()
                result = plan_compute(snapshot, seconds=seconds)
                solver = time.perf_counter() - started
                try:
                    counts = plan_write(snapshot, result)
                except StalePlan:
                    logger.info("dispatch zone %s: plan changed meanwhile, planning again",
                                zone_id)
                    continue
                counts.update(candidates=len(snapshot.stops), couriers=len(snapshot.couriers),
                              volume_trimmed=len(result.volume_trimmed),
                              waiting=snapshot.waiting)
                return _finish(run, DispatchRunStatus.SUCCEEDED,
                               plan_version=counts.pop("plan_version"), counts=counts,
                               distance_m=result.distance_m, lateness_s=result.lateness_s,
                               solver_seconds=round(solver, 3))
            return _finish(run, DispatchRunStatus.SKIPPED,
                           note="the plan kept changing; the next cycle plans again")
    except Exception:
        _finish(run, DispatchRunStatus.FAILED, error=traceback.format_exc()[-8000:])
        raise


def dispatch_runs_abandoned(*, older_than_minutes: int = 60) -> int:
    """Runs left `running` by a worker that died: mark them failed."""
    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    return DispatchRun.objects.filter(status=DispatchRunStatus.RUNNING,
                                      started_at__lt=cutoff).update(
        status=DispatchRunStatus.FAILED, finished_at=timezone.now(),
        error="abandoned: the worker stopped before finishing")



def dispatch_runs_prune(*, older_than_days: int | None = None) -> int:
    """Delete finished dispatch runs past the job-run retention."""
    days = older_than_days or getattr(settings, "JOB_RUN_RETENTION_DAYS", 90)
    deleted, _ = DispatchRun.objects.filter(
        started_at__lt=timezone.now() - timedelta(days=days)).exclude(
        status=DispatchRunStatus.RUNNING).delete()
    return deleted
