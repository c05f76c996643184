"""Demo data of the delivery department (`manage.py seed_demo`; runs after
`sales.seed`, which creates the stores in 上海 and a year of orders).

- Reference data: priority classes, courses, four zones over the Shanghai
  districts of the demo's customers (hubs at the four stores), five express
  carriers with coverage and prices.
- Fleet: vehicles (one with lapsed insurance, one overdue for maintenance),
  couriers with logins `courier_ps0001`… / `demo-courier`, training records
  (one new hire still on-boarding), equipment (one failed check).
- History, written as the services would have written it (bulk, with the
  order's own timestamps): a delivery for every same-city order delivered in
  the last 60 days (ratings, a few failed first attempts, late ones), a
  picked-up delivery for the same-city orders in the courier's box now, and
  a shipment with tracking events for every express order dispatched or
  delivered in the last 60 days (a few damaged, lost, complained about, and
  stalled ones for the `stalled_shipments` job).
- Today: some own-shop same-city orders through `order_create` (stable
  external ids), then the real dispatch job plans every zone once.

Deterministic: everything comes from fixed random seeds and the sales
seed's orders; only dates follow the day it is loaded (as in sales.seed).
Idempotent: rows are matched by natural keys (codes, plates, employee
numbers, orders), and the first plan is made only for zones never planned."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from delivery import policy
from delivery.enums import (
    CourierStatus,
    CourseKind,
    DeliveryEventKind,
    DeliveryStatus,
    EquipmentKind,
    EquipmentStatus,
    EventSource,
    FailureReason,
    ShipmentEventKind,
    ShipmentStatus,
    TrainingStatus,
    VehicleKind,
)
from delivery.models import (
    Carrier,
    CarrierCoverage,
    CarrierRate,
    Courier,
    Delivery,
    DeliveryEvent,
    DeliveryForecast,
    DeliveryIssue,
    Equipment,
    PriorityClass,
    Shipment,
    ShipmentEvent,
    TrainingCourse,
    TrainingRecord,
    Vehicle,
    Zone,
    ZoneDistrict,
)
from inventory.models import Location
from sales.enums import Fulfilment, OrderStatus, Priority
from sales.models import Channel, Order, OrderEvent

RANDOM_SEED = 20250605
HISTORY_DAYS = 60
COURIER_PASSWORD = "demo-courier"  # noqa: S105 - demo logins, printed by seed_demo

PRIORITIES = [(Priority.URGENT, 0, 2), (Priority.MEMBER, 1, 4), (Priority.NORMAL, 2, 8)]
COURSES = [
    ("onboarding", "入职培训（制度、配送流程、服务规范、安全知识）", CourseKind.ONBOARDING, None),
    ("traffic-safety", "道路交通安全培训", CourseKind.PERIODIC, 6),
    ("service-skills", "客户沟通技巧培训", CourseKind.PERIODIC, 12),
]
# code, name, districts, hub store, centre
ZONES = [
    ("pudong", "浦东", ["浦东新区"], "ST-SH04", ("31.222000", "121.530000")),
    ("centre-west", "静安·黄浦·长宁·普陀", ["静安区", "黄浦区", "长宁区", "普陀区"], "ST-SH01",
     ("31.232000", "121.440000")),
    ("xuhui-minhang", "徐汇·闵行", ["徐汇区", "闵行区"], "ST-SH02", ("31.170000", "121.420000")),
    ("north", "杨浦·虹口·宝山", ["杨浦区", "虹口区", "宝山区"], "ST-SH03",
     ("31.300000", "121.500000")),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["建国", "志强", "海峰", "小军", "春生", "永刚", "德华", "国庆", "伟东", "红兵",
         "明辉", "大勇", "晓峰", "金龙", "长青", "新民"]
# code, name, cold chain, promise hours, provinces served, first kg, extra kg
CARRIERS = [
    ("sf", "顺丰速运", True, 36, None, "18.00", "6.00"),
    ("zto", "中通快递", False, 72, None, "8.00", "3.00"),
    ("yto", "圆通速递", False, 72, None, "8.50", "3.00"),
    ("jdl", "京东物流", True, 48, None, "14.00", "5.00"),
    ("ems", "中国邮政 EMS", False, 96, None, "12.00", "4.00"),
]
PROVINCES = ["上海市", "北京市", "浙江省", "江苏省", "广东省", "四川省", "湖北省", "天津市",
             "陕西省", "山东省", "福建省", "湖南省", "重庆市", "安徽省"]


def _aware(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


# --- reference data -------------------------------------------------------------------------


def _reference() -> dict[str, Zone]:
    for priority, rank, hours in PRIORITIES:
        PriorityClass.objects.get_or_create(priority=priority,
                                            defaults={"rank": rank, "promise_hours": hours})
    for code, name, kind, months in COURSES:
        TrainingCourse.objects.get_or_create(code=code, defaults={
            "name": name, "kind": kind, "interval_months": months, "pass_score": 60})
    hubs = {loc.code: loc for loc in Location.objects.filter(code__in=[z[3] for z in ZONES])}
    zones = {}
    for code, name, districts, hub, (lat, lng) in ZONES:
        zone, _ = Zone.objects.get_or_create(code=code, defaults={
            "name": name, "hub": hubs.get(hub), "centre_lat": Decimal(lat),
            "centre_lng": Decimal(lng)})
        for district in districts:
            ZoneDistrict.objects.get_or_create(district=district, defaults={"zone": zone})
        zones[code] = zone
    today = timezone.localdate()
    for code, name, cold, promise, _provinces, first, extra in CARRIERS:
        carrier, created = Carrier.objects.get_or_create(code=code, defaults={
            "name": name, "licence_no": f"快递业务经营许可证 {code.upper()}-2021-{len(name):04d}",
            "licence_expires_on": today + timedelta(days=20 if code == "ems" else 700),
            "cold_chain": cold, "default_promise_hours": promise,
            "contact": f"{name}上海大客户部"})
        if created:
            CarrierCoverage.objects.bulk_create(
                CarrierCoverage(carrier=carrier, province=p,
                                promise_hours=24 if p in ("上海市", "江苏省", "浙江省") else None)
                for p in PROVINCES)
            CarrierRate.objects.bulk_create([
                CarrierRate(carrier=carrier, province="", first_kg=Decimal(first),
                            extra_kg=Decimal(extra)),
                CarrierRate(carrier=carrier, province="上海市",
                            first_kg=Decimal(first) - Decimal("2.00"),
                            extra_kg=Decimal(extra) - Decimal("1.00"))])
    return zones


# --- fleet -------------------------------------------------------------------------------------


def _fleet(zones: dict[str, Zone]) -> list[Courier]:
    rng = random.Random(RANDOM_SEED)
    today = timezone.localdate()
    User = get_user_model()
    onboarding = TrainingCourse.objects.get(code="onboarding")
    periodic = list(TrainingCourse.objects.filter(kind=CourseKind.PERIODIC).order_by("code"))
    couriers = []
    plan = [("pudong", 5), ("centre-west", 5), ("xuhui-minhang", 4), ("north", 4)]
    number = 0
    for zone_code, count in plan:
        for _ in range(count):
            number += 1
            employee_no = f"PS{number:04d}"
            kind = VehicleKind.VAN if number % 9 == 0 else (
                VehicleKind.TRICYCLE if number % 3 == 0 else VehicleKind.E_BIKE)
            capacity = {VehicleKind.VAN: (800, 3000), VehicleKind.TRICYCLE: (200, 800),
                        VehicleKind.E_BIKE: (60, 150)}[kind]
            last_on = today - timedelta(days=rng.randint(5, 80))
            last_km = rng.randint(2000, 20000)
            vehicle, _ = Vehicle.objects.get_or_create(plate=f"沪B·D{number:04d}", defaults={
                "kind": kind, "capacity_weight_kg": capacity[0], "capacity_volume_l": capacity[1],
                "cold_chain": kind == VehicleKind.VAN,
                "odometer_km": last_km + rng.randint(50, 900),
                "maintenance_interval_days": 90, "maintenance_interval_km": 3000,
                "last_maintenance_on": last_on, "last_maintenance_km": last_km,
                "maintenance_due_on": last_on + timedelta(days=90),
                "maintenance_due_km": last_km + 3000, "insurer": "中国人保财险",
                "insurance_policy_no": f"PDAA{today.year}3101{number:06d}",
                "insurance_expires_on": today + timedelta(days=rng.randint(30, 330))})
            if number == 7:  # lapsed insurance: out of dispatch until renewed
                Vehicle.objects.filter(pk=vehicle.pk).update(
                    insurance_expires_on=today - timedelta(days=3))
            if number == 12:  # overdue for maintenance by date
                Vehicle.objects.filter(pk=vehicle.pk).update(
                    maintenance_due_on=today - timedelta(days=2))
            user, created = User.objects.get_or_create(username=f"courier_{employee_no.lower()}")
            if created:
                user.set_password(COURIER_PASSWORD)
                user.save(update_fields=["password"])
            early = number % 2 == 0
            new_hire = number == 18
            courier, created = Courier.objects.get_or_create(employee_no=employee_no, defaults={
                "user": user, "name": rng.choice(SURNAMES) + rng.choice(GIVEN),
                "phone": f"1360{number:07d}",
                "hired_on": today - timedelta(days=7 if new_hire else rng.randint(90, 1500)),
                "licence_no": f"3101{rng.randint(10**9, 10**10 - 1)}",
                "licence_expires_on": today + timedelta(days=rng.randint(200, 2000)),
                "status": CourierStatus.ONBOARDING if new_hire else CourierStatus.ACTIVE,
                "shift_start": time(0, 0) if number in (1, 6, 11, 15) else (
                    time(8, 0) if early else time(12, 0)),
                "shift_end": time(23, 59) if number in (1, 6, 11, 15) else (
                    time(20, 0) if early else time(23, 30)),
                "vehicle": vehicle, "daily_capacity": 35 if kind == VehicleKind.E_BIKE else 45,
                "hiring_notes": "面试通过，试用期三个月" if new_hire else "",
            })
            if created:
                courier.zones.add(zones[zone_code])
                if new_hire:
                    TrainingRecord.objects.create(courier=courier, course=onboarding,
                                                  due_on=courier.hired_on + timedelta(days=7))
                else:
                    TrainingRecord.objects.create(
                        courier=courier, course=onboarding, status=TrainingStatus.PASSED,
                        due_on=courier.hired_on + timedelta(days=7),
                        completed_on=courier.hired_on + timedelta(days=5),
                        score=rng.randint(75, 98), trainer="配送部 培训组")
                    for course in periodic:
                        due = today + timedelta(days=rng.randint(-10, 150))
                        TrainingRecord.objects.create(courier=courier, course=course, due_on=due)
                Equipment.objects.create(kind=EquipmentKind.PHONE, serial_no=f"PH-{employee_no}",
                                         courier=courier, check_interval_days=30,
                                         next_check_due_on=today + timedelta(days=number % 30))
                Equipment.objects.create(
                    kind=EquipmentKind.INSULATED_BOX, serial_no=f"BOX-{employee_no}",
                    vehicle=vehicle, check_interval_days=30,
                    status=EquipmentStatus.FAILED if number == 16 else EquipmentStatus.OK,
                    last_checked_on=today - timedelta(days=3),
                    next_check_due_on=today + timedelta(days=27 - number % 10))
                if kind == VehicleKind.VAN:
                    Equipment.objects.create(kind=EquipmentKind.EXTINGUISHER,
                                             serial_no=f"EX-{employee_no}", vehicle=vehicle,
                                             check_interval_days=90,
                                             next_check_due_on=today + timedelta(days=40))
            couriers.append(courier)
    return couriers


# --- history ------------------------------------------------------------------------------------


def _stamps(order_ids: list[int]) -> dict[int, dict[str, datetime]]:
    stamps: dict[int, dict[str, datetime]] = {}
    for order_id, status, at in (OrderEvent.objects.filter(
            order_id__in=order_ids, to_status__in=[OrderStatus.DISPATCHED,
                                                   OrderStatus.DELIVERED])
            .values_list("order_id", "to_status", "created_at")):
        stamps.setdefault(order_id, {})[status] = at
    return stamps


def _deliveries(zones: dict[str, Zone], couriers: list[Courier]) -> int:
    """Deliveries for the same-city orders the sales seed already moved on."""
    rng = random.Random(RANDOM_SEED + 1)
    now = timezone.now()
    by_district = {d.district: d.zone for d in ZoneDistrict.objects.select_related("zone")}
    zone_couriers: dict[int, list[Courier]] = {}
    for courier in couriers:
        if courier.status == CourierStatus.ACTIVE:
            for zone in courier.zones.all():
                zone_couriers.setdefault(zone.pk, []).append(courier)
    orders = list(Order.objects.filter(
        fulfilment=Fulfilment.DELIVERY,
        status__in=[OrderStatus.DISPATCHED, OrderStatus.DELIVERED, OrderStatus.COMPLETED],
        created_at__gte=now - timedelta(days=HISTORY_DAYS),
        district__in=list(by_district)).exclude(deliveries__isnull=False)
        .prefetch_related("lines__sku").order_by("pk"))
    stamps = _stamps([o.pk for o in orders])
    rows: list[Delivery] = []
    for order in orders:
        zone = by_district[order.district]
        pool = zone_couriers.get(zone.pk)
        at = stamps.get(order.pk, {})
        picked = at.get(OrderStatus.DISPATCHED)
        if not pool or picked is None:
            continue
        if order.status == OrderStatus.DISPATCHED and picked < now - timedelta(days=2):
            continue  # from before the delivery system: no record
        courier = pool[order.pk % len(pool)]
        items = sum(line.quantity for line in order.lines.all())
        weight = sum(line.quantity * line.sku.weight_grams for line in order.lines.all())
        promised_end = order.window_end or (order.created_at + timedelta(hours=8))
        base = {"order": order, "zone": zone, "courier": courier, "vehicle_id": courier.vehicle_id,
                "promised_start": order.window_start, "promised_end": promised_end,
                "weight_grams": weight, "volume_l": policy.parcel_volume_l(items),
                "items": items, "assigned_at": picked - timedelta(minutes=40),
                "picked_up_at": picked, "handover_code": f"{rng.randint(0, 999_999):06d}"}
        if order.status == OrderStatus.DISPATCHED:
            rows.append(Delivery(**base, status=DeliveryStatus.PICKED_UP, sequence=1,
                                 eta=max(now + timedelta(minutes=20), promised_end
                                         - timedelta(minutes=30))))
            continue
        delivered = at.get(OrderStatus.DELIVERED) or picked + timedelta(hours=1)
        if rng.random() < 0.06:  # a failed first attempt, then a second one
            reason = rng.choice([FailureReason.CUSTOMER_ABSENT, FailureReason.UNREACHABLE])
            rows.append(Delivery(**{**base, "handover_code": "000000"},
                                 status=DeliveryStatus.FAILED, failure_reason=reason,
                                 closed_at=picked + timedelta(minutes=50)))
        rows.append(Delivery(**base, status=DeliveryStatus.DELIVERED, delivered_at=delivered,
                             closed_at=delivered,
                             rating=rng.choices([5, 4, 3, 2, None], weights=[55, 20, 6, 2, 17])[0],
                             rating_comment=rng.choice(["", "", "准时，态度好", "包装完好",
                                                        "比预计晚了一点"])))
    with transaction.atomic():
        Delivery.objects.bulk_create(rows, batch_size=500)
        events = []
        for d in rows:
            events.append(DeliveryEvent(delivery=d, kind=DeliveryEventKind.ASSIGNED,
                                        to_status=DeliveryStatus.ASSIGNED, actor_label="dispatch",
                                        data={"courier": d.courier_id}))
            events.append(DeliveryEvent(delivery=d, kind=DeliveryEventKind.PICKED_UP,
                                        from_status=DeliveryStatus.ASSIGNED,
                                        to_status=DeliveryStatus.PICKED_UP,
                                        actor_label=d.courier.user.username))
            if d.status in (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED):
                kind = (DeliveryEventKind.DELIVERED if d.status == DeliveryStatus.DELIVERED
                        else DeliveryEventKind.FAILED)
                events.append(DeliveryEvent(delivery=d, kind=kind,
                                            from_status=DeliveryStatus.PICKED_UP,
                                            to_status=d.status,
                                            actor_label=d.courier.user.username))
        DeliveryEvent.objects.bulk_create(events, batch_size=1000)
        times = {DeliveryEventKind.ASSIGNED: "assigned_at",
                 DeliveryEventKind.PICKED_UP: "picked_up_at",
                 DeliveryEventKind.DELIVERED: "closed_at", DeliveryEventKind.FAILED: "closed_at"}
        for event in events:  # the timeline keeps the order's own times
            event.created_at = getattr(event.delivery, times[event.kind])
        DeliveryEvent.objects.bulk_update(events, ["created_at"], batch_size=1000)
        issues = [DeliveryIssue(delivery=d, kind=kind, note=note,
                                actor_label="demo_customer_service")
                  for d in rows if d.status == DeliveryStatus.DELIVERED
                  for kind, note, p in (("damage", "外包装破损，商品轻微划痕", 0.01),
                                        ("complaint", "配送员未提前电话联系", 0.02))
                  if rng.random() < p]
        DeliveryIssue.objects.bulk_create(issues)
    return len(rows)


def _shipments() -> int:
    rng = random.Random(RANDOM_SEED + 2)
    now = timezone.now()
    carriers = {c.code: c for c in Carrier.objects.prefetch_related("rates")}
    orders = list(Order.objects.filter(
        fulfilment=Fulfilment.EXPRESS,
        status__in=[OrderStatus.DISPATCHED, OrderStatus.DELIVERED, OrderStatus.COMPLETED],
        created_at__gte=now - timedelta(days=HISTORY_DAYS)).exclude(shipments__isnull=False)
        .prefetch_related("lines__sku").order_by("pk"))
    stamps = _stamps([o.pk for o in orders])
    weights = {"sf": 30, "zto": 25, "yto": 20, "jdl": 15, "ems": 10}
    shipments, plans = [], []
    for order in orders:
        at = stamps.get(order.pk, {})
        shipped = at.get(OrderStatus.DISPATCHED)
        if shipped is None:
            continue
        code = rng.choices(list(weights), weights=list(weights.values()))[0]
        carrier = carriers[code]
        weight = sum(line.quantity * line.sku.weight_grams for line in order.lines.all())
        rate = next((r for r in carrier.rates.all() if r.province == order.province),
                    next(r for r in carrier.rates.all() if r.province == ""))
        promise = 24 if order.province in ("上海市", "江苏省", "浙江省") \
            else carrier.default_promise_hours
        delivered = at.get(OrderStatus.DELIVERED)
        status = ShipmentStatus.DELIVERED if delivered else ShipmentStatus.IN_TRANSIT
        lost = delivered is None and shipped < now - timedelta(days=6) and rng.random() < 0.3
        if lost:
            status = ShipmentStatus.LOST
        shipment = Shipment(
            order=order, carrier=carrier, waybill_no=f"{code.upper()}{order.pk:010d}",
            status=status, weight_grams=weight,
            price=policy.carrier_price(first_kg=rate.first_kg, extra_kg=rate.extra_kg,
                                       weight_grams=weight),
            shipped_at=shipped, promised_by=shipped + timedelta(hours=promise),
            delivered_at=delivered, last_event_at=shipped,
            damaged=rng.random() < {"zto": 0.03, "yto": 0.02}.get(code, 0.005),
            complaint=rng.random() < {"yto": 0.04, "ems": 0.03}.get(code, 0.01))
        steps = [(ShipmentEventKind.ACCEPTED, shipped + timedelta(minutes=rng.randint(20, 90)),
                  "上海青浦", "快件已揽收")]
        end = delivered or min(now, shipped + timedelta(hours=rng.randint(6, 40)))
        if delivered is None and (order.pk % 2 == 0 or rng.random() < 0.35):
            end = shipped + timedelta(hours=2)  # the carrier went silent: stalled
        span = (end - steps[0][1]).total_seconds()
        if span > 3600:
            steps.append((ShipmentEventKind.IN_TRANSIT, steps[0][1] + timedelta(seconds=span * 0.3),
                          "上海转运中心", "已发往目的地"))
            steps.append((ShipmentEventKind.ARRIVED, steps[0][1] + timedelta(seconds=span * 0.7),
                          f"{order.city}转运中心", "已到达目的地转运中心"))
        if delivered:
            steps.append((ShipmentEventKind.OUT_FOR_DELIVERY, delivered - timedelta(hours=2),
                          order.district, "派送中"))
            steps.append((ShipmentEventKind.DELIVERED, delivered, order.district, "已签收"))
        if lost:
            steps.append((ShipmentEventKind.LOST, shipped + timedelta(days=5), "",
                          "快件遗失，已报赔"))
        if shipment.damaged:
            steps.append((ShipmentEventKind.DAMAGED, steps[-1][1], order.district, "外包装破损"))
        shipment.last_event_at = max(step[1] for step in steps)
        shipments.append(shipment)
        plans.append(steps)
    with transaction.atomic():
        Shipment.objects.bulk_create(shipments, batch_size=500)
        ShipmentEvent.objects.bulk_create(
            (ShipmentEvent(shipment=s, kind=kind, occurred_at=when, location=where,
                           description=text, source=EventSource.CSV)
             for s, steps in zip(shipments, plans, strict=True)
             for kind, when, where, text in steps), batch_size=1000, ignore_conflicts=True)
    return len(shipments)


# --- today --------------------------------------------------------------------------------------


def _todays_orders() -> int:
    """Own-shop same-city orders to plan today (through the order service)."""
    from inventory.models import StockLevel
    from sales.services import LineInput, OrderInput, order_create

    channel = Channel.objects.filter(code="own_shop").first()
    if channel is None:
        return 0
    rng = random.Random(RANDOM_SEED + 3)
    now = timezone.now()
    stores = [loc.pk for loc in Location.objects.filter(kind="store")]
    stocked = list(StockLevel.objects.filter(location_id__in=stores,
                                             on_hand__gte=F("reserved") + 6)
                   .select_related("sku").order_by("sku__code", "location_id")[:80])
    if not stocked:
        return 0
    places = [("浦东新区", "张杨路", 31.2300, 121.5250),
              ("浦东新区", "世纪大道", 31.2290, 121.5330),
              ("静安区", "愚园路", 31.2230, 121.4350), ("黄浦区", "淮海中路", 31.2190, 121.4650),
              ("徐汇区", "漕溪北路", 31.1900, 121.4370), ("闵行区", "莘建东路", 31.1110, 121.3850),
              ("杨浦区", "国权路", 31.2950, 121.5100), ("虹口区", "四川北路", 31.2570, 121.4850)]
    created = 0
    for index in range(48):
        district, road, lat, lng = places[index % len(places)]
        level = stocked[rng.randrange(len(stocked))]
        quantity = rng.choice([1, 1, 1, 2])
        start = now + timedelta(minutes=rng.choice([30, 60, 90, 120, 180, 240]))
        external_id = f"WXD{RANDOM_SEED}{index:04d}"
        if Order.objects.filter(channel=channel, external_id=external_id).exists():
            continue
        order, new = order_create(channel=channel, actor_label="demo", data=OrderInput(
            external_id=external_id, customer_name=rng.choice(SURNAMES) + rng.choice(GIVEN),
            customer_phone=f"1590{RANDOM_SEED % 1000:03d}{index:04d}", customer_email="",
            lines=[LineInput(sku=level.sku, quantity=quantity, unit_price=level.sku.price)],
            province="上海市", city="上海市", district=district,
            line1=f"{road} {rng.randint(1, 1500)} 号 {rng.randint(1, 30)}0{rng.randint(1, 4)} 室",
            fulfilment=Fulfilment.DELIVERY, paid_amount=level.sku.price * quantity,
            lat=Decimal(f"{lat + rng.uniform(-0.012, 0.012):.6f}"),
            lng=Decimal(f"{lng + rng.uniform(-0.012, 0.012):.6f}"),
            window_start=start, window_end=start + timedelta(hours=2),
            priority=rng.choices([Priority.URGENT, Priority.MEMBER, Priority.NORMAL],
                                 weights=[10, 30, 60])[0]))
        created += int(new)
    return created


def _forecasts(zones: dict[str, Zone]) -> None:
    today = timezone.localdate()
    for offset, expected, note in ((3, 260, "会员日大促预估"),
                                   (10, 420, "品牌日活动（营销部预测）")):
        DeliveryForecast.objects.get_or_create(day=today + timedelta(days=offset), zone=None,
                                               defaults={"expected_orders": expected,
                                                         "source": "campaign", "note": note})


def seed(*, stdout) -> None:
    if not Location.objects.filter(code="ST-SH01").exists():
        stdout.write("  delivery: no stores yet (run the sales seed first); skipped")
        return
    with transaction.atomic():
        zones = _reference()
        couriers = _fleet(zones)
        _forecasts(zones)
    deliveries = _deliveries(zones, couriers)
    shipments = _shipments()
    new_orders = _todays_orders()
    planned = 0
    from delivery.carriers import shipments_flag_stalled
    from delivery.dispatch.zone import dispatch_zone
    from delivery.services import fleet_alerts_refresh

    for zone in zones.values():
        if zone.plan_version == 0 and not zone.dispatch_runs.exists():
            run = dispatch_zone(zone_id=zone.pk, seconds=1.0)
            planned += run.counts.get("assigned", 0)
    stalled = shipments_flag_stalled()["flagged"]
    alerts = fleet_alerts_refresh()["opened"]
    stdout.write(f"  {len(zones)} zones, {len(couriers)} couriers (login courier_ps0001… / "
                 f"{COURIER_PASSWORD}), {deliveries} past deliveries, {shipments} shipments, "
                 f"{new_orders} new same-city orders, {planned} stops planned, {stalled} stalled "
                 f"shipments flagged, {alerts} fleet alerts")
