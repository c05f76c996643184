"""Read models for the delivery pages: courier KPIs per month (000 配送質量監控
3), capacity planning against forecasts (000 營銷活動執行 2) and today's
dashboard (000 配送質量監控 1). Reads only."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.utils import timezone

from delivery import selectors
from delivery.enums import ACTIVE_DELIVERY_STATUSES, DeliveryStatus, IssueKind
from delivery.models import (
    Courier,
    Delivery,
    DeliveryForecast,
    DeliveryIssue,
    DispatchRun,
    FleetAlert,
    Shipment,
    Vehicle,
    Zone,
)
from sales.enums import Fulfilment, OrderStatus
from sales.models import Order

CLOSED = (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED, DeliveryStatus.REFUSED)
BASELINE_DAYS = 28


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


def _month_bounds(month: date) -> tuple[datetime, datetime]:
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return _day_bounds(first)[0], _day_bounds(following)[0]


def _rate(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


# --- courier KPIs ----------------------------------------------------------------------------


@dataclass
class CourierKpi:
    courier: Courier
    closed: int
    delivered: int
    on_time: int
    on_time_rate: Decimal | None
    avg_minutes: int | None
    avg_rating: Decimal | None
    ratings: int
    failed: int
    damage: int
    complaints: int


def courier_kpis(*, month: date, zone: Zone | None = None) -> list[CourierKpi]:
    """Per courier, deliveries closed in `month`: on-time rate (handed over
    by the promised time), average pickup-to-hand-over minutes, average
    rating, failed/refused, damage and complaints."""
    start, end = _month_bounds(month)
    deliveries = Delivery.objects.filter(closed_at__gte=start, closed_at__lt=end,
                                         status__in=CLOSED)
    if zone is not None:
        deliveries = deliveries.filter(zone=zone)
    duration = ExpressionWrapper(F("delivered_at") - F("picked_up_at"),
                                 output_field=DurationField())
    delivered = Q(status=DeliveryStatus.DELIVERED)
    rows = {row["courier_id"]: row for row in deliveries.values("courier_id").annotate(
        closed=Count("pk"), delivered=Count("pk", filter=delivered),
        on_time=Count("pk", filter=delivered & Q(delivered_at__lte=F("promised_end"))),
        failed=Count("pk", filter=Q(status__in=(DeliveryStatus.FAILED,
                                                DeliveryStatus.REFUSED))),
        avg_duration=Avg(duration, filter=delivered), avg_rating=Avg("rating"),
        ratings=Count("rating"))}
    issues: dict[tuple[int, str], int] = {}
    issue_qs = DeliveryIssue.objects.filter(created_at__gte=start, created_at__lt=end)
    if zone is not None:
        issue_qs = issue_qs.filter(delivery__zone=zone)
    for row in issue_qs.values("delivery__courier_id", "kind").annotate(n=Count("pk")):
        issues[(row["delivery__courier_id"], row["kind"])] = row["n"]
    courier_ids = set(rows) | {cid for cid, _kind in issues}
    result = []
    for courier in Courier.objects.filter(pk__in=courier_ids).order_by("employee_no"):
        row = rows.get(courier.pk, {})
        avg = row.get("avg_duration")
        avg_rating = row.get("avg_rating")
        result.append(CourierKpi(
            courier=courier, closed=row.get("closed", 0), delivered=row.get("delivered", 0),
            on_time=row.get("on_time", 0),
            on_time_rate=_rate(row.get("on_time", 0), row.get("delivered", 0)),
            avg_minutes=round(avg.total_seconds() / 60) if avg is not None else None,
            avg_rating=(Decimal(str(avg_rating)).quantize(Decimal("0.01"))
                        if avg_rating is not None else None),
            ratings=row.get("ratings", 0), failed=row.get("failed", 0),
            damage=issues.get((courier.pk, IssueKind.DAMAGE), 0),
            complaints=issues.get((courier.pk, IssueKind.COMPLAINT), 0)))
    return result


# --- capacity planning -------------------------------------------------------------------------


@dataclass
class CapacityDay:
    day: date
    expected: int
    source: str  # "forecast" or "baseline"
    couriers: int
    capacity: int
    shortfall: int
    couriers_needed: int


def _baseline(*, today: date, zone: Zone | None) -> int:
    since = _day_bounds(today - timedelta(days=BASELINE_DAYS))[0]
    until = _day_bounds(today)[0]
    qs = Order.objects.filter(fulfilment=Fulfilment.DELIVERY, created_at__gte=since,
                              created_at__lt=until).exclude(status=OrderStatus.CANCELLED)
    if zone is not None:
        qs = qs.filter(district__in=zone.districts.values("district"))
    return math.ceil(qs.count() / BASELINE_DAYS)


def capacity_plan(*, start: date | None = None, days: int = 14, zone: Zone | None = None
                  ) -> list[CapacityDay]:
    """Expected same-city orders per day (a forecast where one is entered,
    else the last four weeks' average) against what the trained couriers
    with a vehicle usable on that day can deliver."""
    start = start or selectors.today_local()
    forecasts = DeliveryForecast.objects.filter(day__gte=start,
                                                day__lt=start + timedelta(days=days))
    forecasts = forecasts.filter(zone=zone) if zone is not None else forecasts.filter(
        zone__isnull=True)
    by_day = {f.day: f.expected_orders for f in forecasts}
    baseline = _baseline(today=start, zone=zone)
    couriers = (selectors.couriers_trained().filter(status="active", vehicle__isnull=False)
                .select_related("vehicle"))
    if zone is not None:
        couriers = couriers.filter(zones=zone)
    couriers = list(couriers)
    failed_vehicles = set(Vehicle.objects.filter(equipment__status="failed")
                          .values_list("pk", flat=True))
    rows = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        working = [c for c in couriers
                   if c.vehicle.status == "active" and c.vehicle.insurance_expires_on >= day
                   and c.vehicle.maintenance_due_on >= day
                   and c.vehicle_id not in failed_vehicles]
        capacity = sum(c.daily_capacity for c in working)
        expected = by_day.get(day, baseline)
        shortfall = max(0, expected - capacity)
        per_courier = (capacity / len(working)) if working else 40
        rows.append(CapacityDay(day=day, expected=expected,
                                source="forecast" if day in by_day else "baseline",
                                couriers=len(working), capacity=capacity, shortfall=shortfall,
                                couriers_needed=math.ceil(shortfall / per_courier)
                                if shortfall else 0))
    return rows


# --- today's dashboard ---------------------------------------------------------------------------


def dashboard_today(*, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    start, end = _day_bounds(timezone.localdate(now))
    orders = Order.objects.filter(fulfilment=Fulfilment.DELIVERY).filter(
        Q(created_at__gte=start, created_at__lt=end)
        | Q(window_start__gte=start, window_start__lt=end))
    by_state = dict(orders.values_list("status").annotate(n=Count("pk")).order_by())
    labels = dict(OrderStatus.choices)
    order_states = [{"status": s, "label": labels[s], "count": by_state[s]}
                    for s in OrderStatus.values if by_state.get(s)]
    closed_today = Delivery.objects.filter(closed_at__gte=start, closed_at__lt=end)
    delivered = closed_today.filter(status=DeliveryStatus.DELIVERED)
    delivered_n = delivered.count()
    on_time_n = delivered.filter(delivered_at__lte=F("promised_end")).count()
    active = Delivery.objects.filter(status__in=ACTIVE_DELIVERY_STATUSES)
    late = (active.filter(Q(eta__gt=F("promised_end")) | Q(promised_end__lt=now))
            .select_related("order", "courier", "zone").order_by("promised_end", "pk"))
    delivery_states = dict(
        Delivery.objects.filter(Q(status__in=ACTIVE_DELIVERY_STATUSES)
                                | Q(closed_at__gte=start, closed_at__lt=end))
        .values_list("status").annotate(n=Count("pk")).order_by())
    load = (active.values("courier_id", "courier__name", "courier__employee_no",
                          "courier__vehicle__capacity_weight_kg")
            .annotate(stops=Count("pk"), weight=Sum("weight_grams"),
                      picked=Count("pk", filter=Q(status=DeliveryStatus.PICKED_UP)))
            .order_by("-stops", "courier__employee_no"))
    courier_load = []
    for row in load:
        cap = (row["courier__vehicle__capacity_weight_kg"] or 0) * 1000
        courier_load.append({"name": row["courier__name"],
                             "employee_no": row["courier__employee_no"],
                             "stops": row["stops"], "picked": row["picked"],
                             "weight_kg": round((row["weight"] or 0) / 1000, 1),
                             "percent": round(100 * (row["weight"] or 0) / cap) if cap else 0})
    dlabels = dict(DeliveryStatus.choices)
    return {
        "order_states": order_states,
        "orders_today": sum(by_state.values()),
        "delivery_states": [{"status": s, "label": dlabels[s], "count": delivery_states[s]}
                            for s in DeliveryStatus.values if delivery_states.get(s)],
        "delivered_today": delivered_n,
        "on_time_today": on_time_n,
        "on_time_rate": _rate(on_time_n, delivered_n),
        "late_count": late.count(),
        "late": list(late[:30]),
        "courier_load": courier_load,
        "open_alerts": FleetAlert.objects.filter(resolved_at__isnull=True).count(),
        "stalled_shipments": Shipment.objects.filter(stalled_at__isnull=False).exclude(
            status__in=("delivered", "returned", "lost")).count(),
        "awaiting_dispatch": selectors.orders_awaiting_dispatch().count(),
        "recent_runs": list(DispatchRun.objects.select_related("zone")[:10]),
    }
