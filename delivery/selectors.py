"""Reads of the delivery app. The dispatch rules live here as querysets, so
the dispatch job, the dispatcher's manual moves and the pages agree on who
may be dispatched: `couriers_dispatchable` uses `couriers_trained` and
`vehicles_usable`."""

from __future__ import annotations

from datetime import date, datetime

from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from delivery.enums import (
    ACTIVE_DELIVERY_STATUSES,
    CourierStatus,
    CourseKind,
    EquipmentStatus,
    TrainingStatus,
    VehicleStatus,
)
from delivery.models import (
    Carrier,
    Courier,
    Delivery,
    DeliveryEvent,
    Equipment,
    PriorityClass,
    Shipment,
    TrainingCourse,
    TrainingRecord,
    Vehicle,
    Zone,
    ZoneDistrict,
)
from sales.enums import Fulfilment, OrderStatus, Priority
from sales.models import Order, OrderLine

# Confirmed and not yet handed to a courier: what dispatch may assign.
DISPATCHABLE_ORDER_STATUSES = (OrderStatus.CONFIRMED, OrderStatus.PICKING, OrderStatus.PACKED)
# Default promise per priority when no PriorityClass row exists.
DEFAULT_PROMISE_HOURS = {Priority.URGENT: 2, Priority.MEMBER: 4, Priority.NORMAL: 8}
DEFAULT_RANK = {Priority.URGENT: 0, Priority.MEMBER: 1, Priority.NORMAL: 2}


def today_local(at: datetime | None = None) -> date:
    return timezone.localdate(at or timezone.now())


# --- vehicles and couriers ----------------------------------------------------------------


def vehicles_usable(*, today: date | None = None) -> QuerySet[Vehicle]:
    """In service, insured, not overdue for maintenance (date or odometer),
    and none of its equipment failed its last check (000 配送車輛與設備管理;
    000 風險應對 2)."""
    today = today or today_local()
    failed = Equipment.objects.filter(vehicle=OuterRef("pk"), status=EquipmentStatus.FAILED)
    return (Vehicle.objects.filter(status=VehicleStatus.ACTIVE,
                                   insurance_expires_on__gte=today,
                                   maintenance_due_on__gte=today,
                                   odometer_km__lt=F("maintenance_due_km"))
            .exclude(Exists(failed)))


def couriers_trained() -> QuerySet[Courier]:
    """Passed every on-boarding course (and at least one): 培訓合格后方可上崗."""
    passed = TrainingRecord.objects.filter(courier=OuterRef(OuterRef("pk")),
                                           course=OuterRef("pk"), status=TrainingStatus.PASSED)
    missing = TrainingCourse.objects.filter(kind=CourseKind.ONBOARDING).exclude(Exists(passed))
    any_passed = TrainingRecord.objects.filter(courier=OuterRef("pk"),
                                               course__kind=CourseKind.ONBOARDING,
                                               status=TrainingStatus.PASSED)
    return Courier.objects.filter(Exists(any_passed)).exclude(Exists(missing))


def couriers_dispatchable(*, zone: Zone | None = None, at: datetime | None = None
                          ) -> QuerySet[Courier]:
    """Couriers who may receive new stops now: active, trained, driving
    licence (if any) valid, none of their own equipment failed, a usable
    vehicle, and their shift today not over yet."""
    at = at or timezone.now()
    today = today_local(at)
    local_time = timezone.localtime(at).time()
    failed = Equipment.objects.filter(courier=OuterRef("pk"), status=EquipmentStatus.FAILED)
    qs = (couriers_trained()
          .filter(status=CourierStatus.ACTIVE, shift_end__gt=local_time,
                  vehicle__in=vehicles_usable(today=today))
          .filter(Q(licence_expires_on__isnull=True) | Q(licence_expires_on__gte=today))
          .exclude(Exists(failed)))
    if zone is not None:
        qs = qs.filter(zones=zone)
    return qs.select_related("vehicle", "user").order_by("pk")


def courier_dispatch_problems(*, courier: Courier, at: datetime | None = None) -> list[str]:
    """Why a courier may not take new stops (empty: they may)."""
    from delivery.policy import vehicle_fit_problems

    at = at or timezone.now()
    today = today_local(at)
    problems = []
    if courier.status != CourierStatus.ACTIVE:
        problems.append("not_active")
    if not couriers_trained().filter(pk=courier.pk).exists():
        problems.append("not_trained")
    if courier.licence_expires_on and courier.licence_expires_on < today:
        problems.append("licence_expired")
    if courier.shift_end <= timezone.localtime(at).time():
        problems.append("off_shift")
    if courier.equipment.filter(status=EquipmentStatus.FAILED).exists():
        problems.append("equipment_failed")
    vehicle = courier.vehicle
    if vehicle is None:
        problems.append("no_vehicle")
    else:
        problems += vehicle_fit_problems(
            today=today, status=vehicle.status, insurance_expires_on=vehicle.insurance_expires_on,
            maintenance_due_on=vehicle.maintenance_due_on,
            maintenance_due_km=vehicle.maintenance_due_km, odometer_km=vehicle.odometer_km,
            failed_equipment=vehicle.equipment.filter(status=EquipmentStatus.FAILED).count())
    return problems


def courier_for_user(*, user) -> Courier | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Courier.objects.filter(user=user).select_related("vehicle").first()


# --- zones and orders -----------------------------------------------------------------------


def zone_for_district(*, district: str) -> Zone | None:
    row = (ZoneDistrict.objects.filter(district=district, zone__is_active=True)
           .select_related("zone").first())
    return row.zone if row else None


def priority_classes() -> dict[str, tuple[int, int]]:
    """priority → (rank, promise hours), defaults where no row exists."""
    rows = {p.priority: (p.rank, p.promise_hours) for p in PriorityClass.objects.all()}
    return {p: rows.get(p, (DEFAULT_RANK[p], DEFAULT_PROMISE_HOURS[p])) for p in Priority.values}


def orders_awaiting_dispatch(*, zone: Zone | None = None, until: datetime | None = None
                             ) -> QuerySet[Order]:
    """Confirmed same-city orders (own fleet) without an active delivery,
    annotated with their weight and item count; in `zone`'s districts, and
    whose window opens before `until`."""
    active = Delivery.objects.filter(order=OuterRef("pk"), status__in=ACTIVE_DELIVERY_STATUSES)
    weight = (OrderLine.objects.filter(order=OuterRef("pk")).values("order")
              .annotate(w=Sum(F("quantity") * F("sku__weight_grams"))).values("w"))
    items = (OrderLine.objects.filter(order=OuterRef("pk")).values("order")
             .annotate(n=Sum("quantity")).values("n"))
    qs = (Order.objects.filter(fulfilment=Fulfilment.DELIVERY,
                               status__in=DISPATCHABLE_ORDER_STATUSES)
          .exclude(Exists(active))
          .annotate(weight_grams=weight[:1], item_count=items[:1]))
    if zone is not None:
        qs = qs.filter(district__in=ZoneDistrict.objects.filter(zone=zone).values("district"))
    if until is not None:
        qs = qs.filter(Q(window_start__isnull=True) | Q(window_start__lte=until))
    return qs.select_related("customer")


def zone_active_deliveries(*, zone: Zone) -> QuerySet[Delivery]:
    return (Delivery.objects.filter(zone=zone, status__in=ACTIVE_DELIVERY_STATUSES)
            .select_related("order", "courier", "vehicle")
            .order_by("courier_id", "sequence", "pk"))


def courier_route(*, courier: Courier) -> QuerySet[Delivery]:
    """The courier's open stops in visiting order (picked-up first)."""
    return (Delivery.objects.filter(courier=courier, status__in=ACTIVE_DELIVERY_STATUSES)
            .select_related("order", "order__customer", "zone", "zone__hub")
            .prefetch_related(Prefetch("order__lines", queryset=OrderLine.objects.order_by("pk")))
            .order_by("sequence", "pk"))


def courier_deliveries(*, courier: Courier) -> QuerySet[Delivery]:
    """Every delivery of the courier (the courier API only ever looks up here)."""
    return Delivery.objects.filter(courier=courier).select_related("order", "order__customer")


def delivery_timeline(*, delivery: Delivery) -> QuerySet[DeliveryEvent]:
    return delivery.events.order_by("created_at", "pk")


def zone_plan(*, zone: Zone) -> list[dict]:
    """The dispatcher's view of a zone: per courier, stops in order with ETA
    and the load against the vehicle's capacity."""
    deliveries = list(zone_active_deliveries(zone=zone).select_related("order__customer"))
    couriers = {c.pk: c for c in Courier.objects.filter(
        Q(zones=zone) | Q(pk__in={d.courier_id for d in deliveries}))
        .select_related("vehicle").distinct()}
    routes: dict[int, dict] = {}
    for courier in sorted(couriers.values(), key=lambda c: c.employee_no):
        vehicle = courier.vehicle
        routes[courier.pk] = {"courier": courier, "vehicle": vehicle, "stops": [],
                              "weight_grams": 0, "volume_l": 0,
                              "capacity_grams": vehicle.capacity_weight_kg * 1000 if vehicle
                              else 0,
                              "capacity_l": vehicle.capacity_volume_l if vehicle else 0,
                              "late": 0}
    for delivery in deliveries:
        route = routes[delivery.courier_id]
        route["stops"].append(delivery)
        route["weight_grams"] += delivery.weight_grams
        route["volume_l"] += delivery.volume_l
        route["late"] += int(delivery.is_late)
    for route in routes.values():
        cap = route["capacity_grams"]
        route["load_percent"] = round(100 * route["weight_grams"] / cap) if cap else 0
    return [r for r in routes.values() if r["stops"] or r["courier"].status ==
            CourierStatus.ACTIVE]


# --- carriers and shipments ------------------------------------------------------------------


def carriers_serving(*, province: str, city: str, today: date | None = None,
                     cold_chain: bool = False) -> QuerySet[Carrier]:
    """Active carriers with a valid licence that cover the destination."""
    today = today or today_local()
    qs = (Carrier.objects.filter(is_active=True, licence_expires_on__gte=today)
          .filter(Q(coverage__province=province, coverage__city="")
                  | Q(coverage__province=province, coverage__city=city))
          .distinct())
    if cold_chain:
        qs = qs.filter(cold_chain=True)
    return qs.prefetch_related("coverage", "rates").order_by("code")


def shipments_stalled_candidates(*, before: datetime) -> QuerySet[Shipment]:
    from delivery.enums import SHIPMENT_TERMINAL

    return (Shipment.objects.exclude(status__in=SHIPMENT_TERMINAL)
            .filter(last_event_at__lt=before, stalled_at__isnull=True).order_by("pk"))

