"""The dispatch job through its services: who is dispatched, what is
planned, re-planning, and a run that dies half-way."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from core.models import JobRun
from delivery import policy
from delivery.dispatch import zone as zone_module
from delivery.dispatch.zone import dispatch_zone
from delivery.enums import (
    CourierStatus,
    DeliveryEventKind,
    DeliveryStatus,
    DispatchRunStatus,
    EquipmentKind,
    EquipmentStatus,
    NotificationKind,
    VehicleStatus,
)
from delivery.models import (
    CustomerNotification,
    Delivery,
    DeliveryEvent,
    DispatchRun,
    Equipment,
    Zone,
)
from delivery.services import delivery_pickup
from delivery.tests.factories import CourierFactory, ZoneFactory
from sales.enums import Fulfilment, OrderStatus, Priority
from sales.services import order_cancel

pytestmark = pytest.mark.django_db
SECONDS = 0.3
DISTRICT = "浦东新区"


def active(order=None):
    qs = Delivery.objects.filter(status__in=(DeliveryStatus.ASSIGNED, DeliveryStatus.PICKED_UP))
    return qs.filter(order=order) if order is not None else qs


def test_dispatch_assigns_every_order_once_with_route_eta_and_code(zone, courier, shop):
    orders = [shop.order(district=DISTRICT) for _ in range(6)]
    run = dispatch_zone(zone_id=zone.pk, seconds=SECONDS)
    assert run.status == DispatchRunStatus.SUCCEEDED, run.error
    assert run.counts["assigned"] == 6
    deliveries = list(Delivery.objects.order_by("sequence"))
    assert sorted(d.order_id for d in deliveries) == sorted(o.pk for o in orders)
    assert [d.sequence for d in deliveries] == [1, 2, 3, 4, 5, 6]
    assert all(d.courier_id == courier.pk and d.vehicle_id == courier.vehicle_id
               for d in deliveries)
    assert all(d.eta is not None and d.eta >= timezone.now() - timedelta(minutes=1)
               for d in deliveries)
    assert len({d.handover_code for d in deliveries}) >= 1
    assert all(len(d.handover_code) == 6 and d.handover_code.isdigit() for d in deliveries)
    notes = CustomerNotification.objects.filter(kind=NotificationKind.HANDOVER_CODE)
    assert notes.count() == 6
    for d in deliveries:
        assert d.handover_code in notes.get(delivery=d).message
    assert DeliveryEvent.objects.filter(kind=DeliveryEventKind.ASSIGNED).count() == 6
    # Orders stay where the store has them until pickup.
    assert {o.status for o in type(orders[0]).objects.filter(pk__in=[o.pk for o in orders])} \
        == {OrderStatus.CONFIRMED}
    zone.refresh_from_db()
    assert zone.plan_version == 1 and run.plan_version == 1


def test_a_second_run_assigns_nothing_twice_and_keeps_the_plan(zone, courier, shop):
    for _ in range(4):
        shop.order(district=DISTRICT)
    dispatch_zone(zone_id=zone.pk, seconds=SECONDS)
    first = {d.pk: d.order_id for d in Delivery.objects.all()}
    run = dispatch_zone(zone_id=zone.pk, seconds=SECONDS)
    assert run.counts["assigned"] == 0 and run.counts["kept"] == 4
    assert {d.pk: d.order_id for d in Delivery.objects.all()} == first
    assert CustomerNotification.objects.count() == 4


def test_only_own_fleet_orders_of_the_zone_within_the_horizon(zone, courier, shop):
    ZoneFactory(code="other", districts=["黄浦区"])
    mine = shop.order(district=DISTRICT)
    shop.order(district="黄浦区")
    shop.order(district=DISTRICT, fulfilment=Fulfilment.EXPRESS)
    shop.order(district=DISTRICT, window_hours=(30, 32))  # tomorrow: a later cycle
    dispatch_zone(zone_id=zone.pk, seconds=SECONDS)
    assert list(Delivery.objects.values_list("order_id", flat=True)) == [mine.pk]


def _untrained(zone):
    return CourierFactory(zones=[zone], trained=False)


def _expired_insurance(zone):
    return CourierFactory(zones=[zone], vehicle__insurance_expires_on=timezone.localdate()
                          - timedelta(days=1))


def _maintenance_overdue_by_date(zone):
    return CourierFactory(zones=[zone], vehicle__maintenance_due_on=timezone.localdate()
                          - timedelta(days=1))


def _maintenance_overdue_by_km(zone):
    return CourierFactory(zones=[zone], vehicle__odometer_km=5000,
                          vehicle__maintenance_due_km=4000)


def _failed_vehicle_equipment(zone):
    courier = CourierFactory(zones=[zone])
    Equipment.objects.create(kind=EquipmentKind.EXTINGUISHER, serial_no="EX-1",
                             vehicle=courier.vehicle, status=EquipmentStatus.FAILED,
                             next_check_due_on=timezone.localdate())
    return courier


def _failed_phone(zone):
    courier = CourierFactory(zones=[zone])
    Equipment.objects.create(kind=EquipmentKind.PHONE, serial_no="PH-1", courier=courier,
                             status=EquipmentStatus.FAILED,
                             next_check_due_on=timezone.localdate())
    return courier


def _vehicle_in_maintenance(zone):
    return CourierFactory(zones=[zone], vehicle__status=VehicleStatus.IN_MAINTENANCE)


def _no_vehicle(zone):
    return CourierFactory(zones=[zone], vehicle=None)


def _suspended(zone):
    return CourierFactory(zones=[zone], status=CourierStatus.SUSPENDED)


def _onboarding(zone):
    return CourierFactory(zones=[zone], status=CourierStatus.ONBOARDING)


def _licence_expired(zone):
    return CourierFactory(zones=[zone], licence_no="310000",
                          licence_expires_on=timezone.localdate() - timedelta(days=1))


def _other_zone(zone):
    return CourierFactory(zones=[ZoneFactory(code="elsewhere")])


@pytest.mark.parametrize("make", [
    _untrained, _expired_insurance, _maintenance_overdue_by_date, _maintenance_overdue_by_km,
    _failed_vehicle_equipment, _failed_phone, _vehicle_in_maintenance, _no_vehicle, _suspended,
    _onboarding, _licence_expired, _other_zone,
], ids=lambda f: f.__name__.strip("_"))
def test_an_unfit_courier_or_vehicle_is_never_dispatched(make, zone, shop):
    unfit = make(zone)
    fit = CourierFactory(zones=[zone])
    for _ in range(3):
        shop.order(district=DISTRICT)
    dispatch_zone(zone_id=zone.pk, seconds=SECONDS)
    assert not Delivery.objects.filter(courier=unfit).exists()
    assert Delivery.objects.filter(courier=fit).count() == 3


def test_without_any_fit_courier_nothing_is_assigned(zone, shop):
    _untrained(zone)
    order = shop.order(district=DISTRICT)
    run = dispatch_zone(zone_id=zone.pk, seconds=SECONDS)
    assert run.status == DispatchRunStatus.SUCCEEDED
    assert run.counts["assigned"] == 0 and run.counts["waiting"] == 1
    assert not active(order).exists()


def test_off_shift_courier_is_not_dispatched(zone, shop):
    now = timezone.localtime()
    if now.hour == 0:
        pytest.skip("just after midnight every shift has still to start")
    off = CourierFactory(zones=[zone], shift_start=now.replace(hour=0, minute=0).time(),
                         shift_end=now.replace(hour=0, minute=1).time())
    shop.order(district=DISTRICT)
    dispatch_zone(zone_id=zone.pk, seconds=SECONDS)
    assert not Delivery.objects.filter(courier=off).exists()


def test_urgent_orders_go_first_when_couriers_are_short(zone, shop):
    CourierFactory(zones=[zone], vehicle__capacity_weight_kg=3)  # room for 3 × 1 kg
    normal = [shop.order(district=DISTRICT) for _ in range(3)]
    urgent = [shop.order(district=DISTRICT, priority=Priority.URGENT) for _ in range(2)]
    dispatch_zone(zone_id=zone.pk, seconds=SECONDS)
    assigned = set(active().values_list("order_id", flat=True))
    assert len(assigned) == 3
    assert {o.pk for o in urgent} <= assigned
    assert len(assigned & {o.pk for o in normal}) == 1


def test_volume_limits_what_is_taken_on(zone, shop):
    CourierFactory(zones=[zone], vehicle__capacity_volume_l=policy.LITRES_PER_ITEM * 2)
    for _ in range(4):
        shop.order(district=DISTRICT)
    run = dispatch_zone(zone_id=zone.pk, seconds=SECONDS)
    assert active().count() == 2
    assert run.counts["waiting"] == 2


def test_no_vehicle_is_loaded_beyond_its_volume(zone, shop):
    """The planner balances weight only; the volume check after it trims."""
    couriers = [CourierFactory(zones=[zone], vehicle__capacity_volume_l=policy.LITRES_PER_ITEM
                               * 2) for _ in range(2)]
    for _ in range(4):
        shop.order(district=DISTRICT)
    run = dispatch_zone(zone_id=zone.pk, seconds=SECONDS)
    for courier in couriers:
        assert sum(active().filter(courier=courier).values_list("volume_l", flat=True)) \
            <= courier.vehicle.capacity_volume_l
    assert active().count() + run.counts["volume_trimmed"] == 4


def test_replanning_keeps_picked_up_stops_on_their_courier(zone, shop):
    first = CourierFactory(zones=[zone])
    orders = [shop.order(district=DISTRICT) for _ in range(4)]
    dispatch_zone(zone_id=zone.pk, seconds=SECONDS)
    picked = Delivery.objects.filter(courier=first).order_by("sequence").first()
    delivery_pickup(delivery=picked, courier=first, actor=first.user,
                    lines=[(line.sku_code, line.quantity) for line in picked.order.lines.all()])
    # A second courier starts and new orders arrive: the plan changes, but the
    # picked-up goods stay in the first courier's box.
    second = CourierFactory(zones=[zone])
    new = [shop.order(district=DISTRICT) for _ in range(4)]
    first.vehicle.insurance_expires_on = timezone.localdate() - timedelta(days=1)
    first.vehicle.save()  # first may take no new stops now
    run = dispatch_zone(zone_id=zone.pk, seconds=SECONDS)
    assert run.status == DispatchRunStatus.SUCCEEDED, run.error
    picked.refresh_from_db()
    assert picked.courier_id == first.pk and picked.status == DeliveryStatus.PICKED_UP
    assert active().count() == 8
    assert set(active().filter(courier=first).values_list("pk", flat=True)) == {picked.pk}
    assert active().filter(courier=second).count() == 7
    assert {o.pk for o in orders + new} == set(active().values_list("order_id", flat=True))
    assert DeliveryEvent.objects.filter(kind=DeliveryEventKind.REASSIGNED).count() == 3


def test_warm_start_comes_from_the_current_plan(zone, courier, shop, monkeypatch):
    for _ in range(3):
        shop.order(district=DISTRICT)
    dispatch_zone(zone_id=zone.pk, seconds=SECONDS)
    route = list(Delivery.objects.order_by("sequence").values_list("order_id", flat=True))
    seen = {}
    real = zone_module.plan_routes

    def spy(**kwargs):
        seen["warm_start"] = kwargs["warm_start"]
        return real(**kwargs)

    monkeypatch.setattr(zone_module, "plan_routes", spy)
    shop.order(district=DISTRICT)
    dispatch_zone(zone_id=zone.pk, seconds=SECONDS)
    assert seen["warm_start"].routes == {f"c{courier.pk}": [f"o{pk}" for pk in route]}


def test_a_cancelled_order_leaves_the_route(zone, courier, shop):
    orders = [shop.order(district=DISTRICT) for _ in range(2)]
    dispatch_zone(zone_id=zone.pk, seconds=SECONDS)
    order_cancel(order=orders[0], reason="客户取消")
    run = dispatch_zone(zone_id=zone.pk, seconds=SECONDS)
    assert run.counts["cancelled"] == 1
    assert Delivery.objects.get(order=orders[0]).status == DeliveryStatus.CANCELLED
    assert active().get().order_id == orders[1].pk
    assert active().get().sequence == 1


def test_a_suspended_couriers_open_stops_go_to_another(zone, shop):
    first = CourierFactory(zones=[zone])
    for _ in range(3):
        shop.order(district=DISTRICT)
    dispatch_zone(zone_id=zone.pk, seconds=SECONDS)
    second = CourierFactory(zones=[zone])
    first.status = CourierStatus.SUSPENDED
    first.save()
    dispatch_zone(zone_id=zone.pk, seconds=SECONDS)
    assert active().count() == 3
    assert set(active().values_list("courier_id", flat=True)) == {second.pk}


def test_a_run_that_dies_half_way_writes_nothing_and_the_next_completes(
        zone, courier, shop, monkeypatch):
    orders = [shop.order(district=DISTRICT) for _ in range(5)]

    def crash(deliveries):  # after the deliveries are inserted, before the commit
        assert Delivery.objects.count() == 5
        raise RuntimeError("worker lost")

    monkeypatch.setattr(zone_module, "_notifications_for", crash)
    with pytest.raises(RuntimeError):
        dispatch_zone(zone_id=zone.pk, seconds=SECONDS)
    assert Delivery.objects.count() == 0
    assert DeliveryEvent.objects.count() == 0
    assert Zone.objects.get(pk=zone.pk).plan_version == 0
    failed = DispatchRun.objects.get()
    assert failed.status == DispatchRunStatus.FAILED and "worker lost" in failed.error
    monkeypatch.undo()
    run = dispatch_zone(zone_id=zone.pk, seconds=SECONDS)
    assert run.status == DispatchRunStatus.SUCCEEDED
    assert sorted(active().values_list("order_id", flat=True)) == sorted(o.pk for o in orders)


def test_a_plan_made_stale_by_a_move_is_planned_again(zone, courier, shop, monkeypatch):
    for _ in range(3):
        shop.order(district=DISTRICT)
    real = zone_module.plan_compute
    calls = []

    def meanwhile(snapshot, *, seconds):
        calls.append(snapshot.version)
        if len(calls) == 1:  # a dispatcher's move commits while we plan
            Zone.objects.filter(pk=zone.pk).update(plan_version=7)
        return real(snapshot, seconds=seconds)

    monkeypatch.setattr(zone_module, "plan_compute", meanwhile)
    run = dispatch_zone(zone_id=zone.pk, seconds=SECONDS)
    assert calls == [0, 7]
    assert run.status == DispatchRunStatus.SUCCEEDED and run.plan_version == 8
    assert active().count() == 3


def test_the_dispatch_job_runs_every_zone_and_records_runs(shop):
    zones = [ZoneFactory(code=f"j{i}", districts=[f"区{i}"]) for i in range(3)]
    for z in zones:
        CourierFactory(zones=[z])
        shop.order(district=z.districts.get().district)
    call_command("run_job", "dispatch", stdout=StringIO())
    job = JobRun.objects.get(name="dispatch")
    assert job.status == JobRun.Status.SUCCEEDED
    assert job.counts["zones_queued"] == 3
    assert DispatchRun.objects.filter(status=DispatchRunStatus.SUCCEEDED).count() == 3
    assert active().count() == 3


def test_abandoned_runs_are_closed_by_the_next_cycle(zone):
    stuck = DispatchRun.objects.create(zone=zone)
    DispatchRun.objects.filter(pk=stuck.pk).update(
        started_at=timezone.now() - timedelta(hours=2))
    call_command("run_job", "dispatch", stdout=StringIO())
    stuck.refresh_from_db()
    assert stuck.status == DispatchRunStatus.FAILED and "abandoned" in stuck.error


def test_replanning_keeps_assigned_stops_with_their_courier(zone, shop):
    first = CourierFactory(zones=[zone])
    for _ in range(4):
        shop.order(district=DISTRICT)
    dispatch_zone(zone_id=zone.pk, seconds=SECONDS)
    before = dict(active().values_list("pk", "courier_id"))
    CourierFactory(zones=[zone])  # a second courier starts: no reshuffle
    shop.order(district=DISTRICT)
    run = dispatch_zone(zone_id=zone.pk, seconds=SECONDS)
    assert run.counts["moved"] == 0 and run.counts["assigned"] == 1
    assert {pk: c for pk, c in active().values_list("pk", "courier_id") if pk in before} \
        == before == dict.fromkeys(before, first.pk)


def test_replanning_without_kept_assignments_still_assigns_each_once(zone, shop, settings):
    settings.DELIVERY_REPLAN_KEEPS_ASSIGNMENTS = False
    first = CourierFactory(zones=[zone], vehicle__capacity_weight_kg=10)
    for _ in range(6):
        shop.order(district=DISTRICT)
    dispatch_zone(zone_id=zone.pk, seconds=SECONDS)
    assert active().filter(courier=first).count() == 6
    run = dispatch_zone(zone_id=zone.pk, seconds=SECONDS)  # nothing to gain: all kept
    assert run.counts["kept"] == 6
    assert active().count() == 6


def test_a_suspended_courier_cannot_pick_up(zone, courier, shop):
    from core.errors import DomainError

    shop.order(district=DISTRICT)
    dispatch_zone(zone_id=zone.pk, seconds=SECONDS)
    delivery = Delivery.objects.get()
    courier.status = CourierStatus.SUSPENDED
    courier.save()
    with pytest.raises(DomainError) as refused:
        delivery_pickup(delivery=delivery, courier=courier, actor=courier.user,
                        lines=[(line.sku_code, line.quantity)
                               for line in delivery.order.lines.all()])
    assert refused.value.code == "courier_not_dispatchable"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.ASSIGNED
