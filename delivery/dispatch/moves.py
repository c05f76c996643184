"""A dispatcher moves a stop by hand: to another courier and/or another
position in the route. The move re-validates what dispatch guarantees
(the courier may be dispatched, the vehicle's weight and volume suffice,
picked-up goods stay with their courier), re-numbers both routes, recomputes
their ETAs and bumps the zone's plan version, so a dispatch run that planned
before the move plans again instead of overwriting it."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.errors import BusinessRuleViolation, DomainError, InvalidTransition
from delivery import selectors
from delivery.dispatch.adapter import project, route_etas
from delivery.enums import (
    ACTIVE_DELIVERY_STATUSES,
    DeliveryErrorCode,
    DeliveryEventKind,
    DeliveryStatus,
)
from delivery.locks import deliveries_lock, zone_lock
from delivery.models import Courier, Delivery, DeliveryEvent, Vehicle, Zone
from delivery.policy import service_seconds


def _route_start(courier: Courier, now: datetime) -> datetime:
    start = timezone.make_aware(datetime.combine(timezone.localdate(now), courier.shift_start))
    return max(start, now)


def _recompute_etas(zone: Zone, courier: Courier, stops: list[Delivery], now: datetime) -> None:
    centre = (float(zone.centre_lat), float(zone.centre_lng))
    hub = zone.hub  # one query; the zone row is locked
    depot = ((float(hub.lat), float(hub.lng)) if hub and hub.lat is not None
             and hub.lng is not None else centre)
    depot_xy = project(*depot, centre_lat=centre[0], centre_lng=centre[1])
    rows = []
    for d in stops:
        order = d.order
        if order.lat is None or order.lng is None:
            x, y = 0.0, 0.0
        else:
            x, y = project(float(order.lat), float(order.lng), centre_lat=centre[0],
                           centre_lng=centre[1])
        rows.append((d.pk, x, y, service_seconds(d.items), d.promised_start))
    etas = route_etas(depot_xy=depot_xy, stops=rows, start=_route_start(courier, now))
    for d in stops:
        d.eta = etas[d.pk]


@transaction.atomic
def delivery_move(*, delivery: Delivery, courier: Courier, position: int, actor,
                  reason: str = "") -> Delivery:
    """Put `delivery` at `position` (1-based) on `courier`'s route."""
    now = timezone.now()
    zone = zone_lock(zone_id=delivery.zone_id)
    source_id = Delivery.objects.values_list("courier_id", flat=True).get(pk=delivery.pk)
    ids = Delivery.objects.filter(courier_id__in={source_id, courier.pk},
                                  status__in=ACTIVE_DELIVERY_STATUSES).values_list("pk", flat=True)
    locked = deliveries_lock(delivery_ids=[*ids, delivery.pk])
    delivery = locked[delivery.pk]
    if delivery.status not in ACTIVE_DELIVERY_STATUSES:
        raise InvalidTransition(_("The delivery is closed."),
                                code=DeliveryErrorCode.INVALID_TRANSITION)
    moving = delivery.courier_id != courier.pk
    target = (Courier.objects.select_for_update(of=("self",)).select_related("vehicle")
              .get(pk=courier.pk))
    if moving:
        if delivery.status != DeliveryStatus.ASSIGNED:
            raise InvalidTransition(_("The goods are already with the courier; the stop "
                                      "cannot move to someone else."),
                                    code=DeliveryErrorCode.INVALID_TRANSITION)
        if target.vehicle_id:
            Vehicle.objects.select_for_update().get(pk=target.vehicle_id)
        if not selectors.couriers_dispatchable(zone=zone, at=now).filter(pk=target.pk).exists():
            problems = selectors.courier_dispatch_problems(courier=target, at=now)
            if not target.zones.filter(pk=zone.pk).exists():
                problems.append("wrong_zone")
            raise BusinessRuleViolation(
                _("%(name)s cannot take this stop (%(problems)s).") % {
                    "name": target.name, "problems": ", ".join(problems)},
                code=DeliveryErrorCode.NOT_DISPATCHABLE, fields={"courier": problems})
    route = sorted((d for d in locked.values() if d.courier_id == target.pk
                    and d.status in ACTIVE_DELIVERY_STATUSES and d.pk != delivery.pk),
                   key=lambda d: (d.sequence, d.pk))
    if not 1 <= position <= len(route) + 1:
        raise DomainError(_("Position out of range."), code="invalid", status_code=400,
                          fields={"position": [_("Between 1 and %(n)d.") % {
                              "n": len(route) + 1}]})
    if moving:
        vehicle = target.vehicle
        weight = sum(d.weight_grams for d in route) + delivery.weight_grams
        volume = sum(d.volume_l for d in route) + delivery.volume_l
        if vehicle is None or weight > vehicle.capacity_weight_kg * 1000 \
                or volume > vehicle.capacity_volume_l:
            raise BusinessRuleViolation(
                _("The vehicle would carry %(kg).1f kg / %(l)d L; it takes %(cap_kg)d kg / "
                  "%(cap_l)d L.") % {
                    "kg": weight / 1000, "l": volume,
                    "cap_kg": vehicle.capacity_weight_kg if vehicle else 0,
                    "cap_l": vehicle.capacity_volume_l if vehicle else 0},
                code=DeliveryErrorCode.CAPACITY_EXCEEDED,
                fields={"courier": [_("Not enough capacity.")]})
    source = sorted((d for d in locked.values() if d.courier_id == delivery.courier_id
                     and d.status in ACTIVE_DELIVERY_STATUSES and d.pk != delivery.pk),
                    key=lambda d: (d.sequence, d.pk)) if moving else []
    old_courier, old_sequence = delivery.courier_id, delivery.sequence
    route.insert(position - 1, delivery)
    delivery.courier_id = target.pk
    delivery.vehicle_id = target.vehicle_id
    changed = []
    for routed, owner in ((route, target), (source, None)):
        for index, d in enumerate(routed, start=1):
            d.sequence = index
        if routed:
            owner = owner or Courier.objects.get(pk=old_courier)
            _recompute_etas(zone, owner, routed, now)
        changed += routed
    for d in changed:
        d.updated_at = now  # bulk_update does not run auto_now
    Delivery.objects.bulk_update(changed, ["courier", "vehicle", "sequence", "eta", "updated_at"])
    kind = DeliveryEventKind.REASSIGNED if moving else DeliveryEventKind.RESEQUENCED
    DeliveryEvent.objects.create(
        delivery=delivery, kind=kind, actor=actor if getattr(actor, "pk", None) else None,
        actor_label=getattr(actor, "username", ""), note=reason[:255],
        data={"from": old_courier, "to": target.pk, "from_sequence": old_sequence,
              "to_sequence": position})
    zone.plan_version += 1
    zone.save(update_fields=["plan_version"])
    audit_record(actor=actor, action="delivery.move", target=delivery, reason=reason,
                 data={"from": old_courier, "to": target.pk, "position": position})
    return delivery
