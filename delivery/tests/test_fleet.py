"""Couriers, training, vehicles and equipment through their services, and
the alert job."""

from datetime import date, time, timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import BusinessRuleViolation, DomainError, InvalidTransition
from core.models import AuditEvent, JobRun
from delivery import selectors
from delivery.enums import (
    AlertKind,
    CourierStatus,
    CourseKind,
    EquipmentKind,
    EquipmentStatus,
    TrainingStatus,
    VehicleStatus,
)
from delivery.models import Equipment, FleetAlert, FleetEvent, TrainingCourse, TrainingRecord
from delivery.services import (
    courier_hire,
    courier_status_change,
    equipment_check_record,
    fleet_alerts_refresh,
    training_record_complete,
    vehicle_insurance_renew,
    vehicle_maintenance_record,
    vehicle_odometer_update,
    vehicle_save,
    vehicle_status_change,
)
from delivery.tests.factories import CourierFactory, VehicleFactory, onboarding_course

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss():
    return User.objects.create_user("dispatch_lead", is_staff=True)


def test_a_hire_must_pass_on_boarding_before_dispatch(boss, zone):
    onboarding_course()
    TrainingCourse.objects.create(code="safety", name="安全培训",
                                           kind=CourseKind.ONBOARDING)
    courier = courier_hire(employee_no="PS9001", name="新人", phone="13900009001",
                           hired_on=date(2026, 1, 5), shift_start=time(8), shift_end=time(20),
                           zones=[zone], vehicle=VehicleFactory(), actor=boss)
    assert courier.status == CourierStatus.ONBOARDING
    records = list(courier.training_records.order_by("course__code"))
    assert [r.course.code for r in records] == ["onboarding", "safety"]
    assert all(r.due_on == date(2026, 1, 12) for r in records)
    with pytest.raises(BusinessRuleViolation) as refused:
        courier_status_change(courier=courier, to_status=CourierStatus.ACTIVE, actor=boss)
    assert refused.value.code == "courier_not_trained"
    training_record_complete(record=records[0], passed=True, score=88, actor=boss)
    with pytest.raises(BusinessRuleViolation):  # one of two courses is not enough
        courier_status_change(courier=courier, to_status=CourierStatus.ACTIVE, actor=boss)
    training_record_complete(record=records[1], passed=True, score=75, actor=boss)
    courier_status_change(courier=courier, to_status=CourierStatus.ACTIVE, actor=boss)
    assert selectors.couriers_dispatchable(zone=zone).filter(pk=courier.pk).exists()
    assert FleetEvent.objects.filter(courier=courier, kind="status", to_status="active").exists()
    assert AuditEvent.objects.filter(action="courier.active").count() == 1


def test_courier_transitions_follow_the_map(boss):
    courier = CourierFactory()
    courier_status_change(courier=courier, to_status=CourierStatus.LEFT, actor=boss)
    with pytest.raises(InvalidTransition):
        courier_status_change(courier=courier, to_status=CourierStatus.ACTIVE, actor=boss)


def test_failing_schedules_a_retake_and_passing_a_periodic_course_the_next(boss):
    courier = CourierFactory()
    course = TrainingCourse.objects.create(code="traffic", name="交通安全",
                                           kind=CourseKind.PERIODIC, interval_months=6,
                                           pass_score=70)
    record = TrainingRecord.objects.create(courier=courier, course=course,
                                           due_on=date(2026, 1, 31))
    with pytest.raises(BusinessRuleViolation):
        training_record_complete(record=record, passed=True, score=50, actor=boss)
    training_record_complete(record=record, passed=False, score=50, actor=boss,
                             completed_on=date(2026, 1, 20))
    retake = TrainingRecord.objects.get(courier=courier, status=TrainingStatus.SCHEDULED)
    assert retake.due_on == date(2026, 2, 3)
    training_record_complete(record=retake, passed=True, score=80, actor=boss,
                             completed_on=date(2026, 8, 31))
    following = TrainingRecord.objects.get(courier=courier, status=TrainingStatus.SCHEDULED)
    assert following.due_on == date(2027, 2, 28)
    with pytest.raises(InvalidTransition):
        training_record_complete(record=retake, passed=True, actor=boss)
    with pytest.raises(IntegrityError), transaction.atomic():  # one open session per course
        TrainingRecord.objects.create(courier=courier, course=course, due_on=date(2027, 1, 1))


def test_alerts_open_once_and_resolve(boss):
    today = timezone.localdate()
    courier = CourierFactory()
    course = TrainingCourse.objects.create(code="service", name="服务规范",
                                           kind=CourseKind.PERIODIC, interval_months=12)
    overdue = TrainingRecord.objects.create(courier=courier, course=course,
                                            due_on=today - timedelta(days=3))
    vehicle = courier.vehicle
    vehicle.insurance_expires_on = today + timedelta(days=5)
    vehicle.odometer_km = vehicle.maintenance_due_km - 50
    vehicle.save()
    box = Equipment.objects.create(kind=EquipmentKind.INSULATED_BOX, serial_no="BOX-1",
                                   vehicle=vehicle, next_check_due_on=today - timedelta(days=1))
    first = fleet_alerts_refresh()
    assert first["opened"] == 4
    kinds = set(FleetAlert.objects.values_list("kind", flat=True))
    assert kinds == {AlertKind.TRAINING_OVERDUE, AlertKind.INSURANCE_EXPIRING,
                     AlertKind.MAINTENANCE_DUE, AlertKind.EQUIPMENT_CHECK_DUE}
    assert fleet_alerts_refresh()["opened"] == 0
    training_record_complete(record=overdue, passed=True, actor=boss)
    vehicle_insurance_renew(vehicle=vehicle, policy_no="PICC-NEW", expires_on=today
                            + timedelta(days=365), actor=boss)
    vehicle_maintenance_record(vehicle=vehicle, performed_on=today,
                               odometer_km=vehicle.maintenance_due_km - 40,
                               description="保养", actor=boss)
    equipment_check_record(equipment=box, passed=True, actor=boss)
    fleet_alerts_refresh()
    assert not FleetAlert.objects.filter(resolved_at__isnull=True).exists()
    call_command("run_job", "fleet_alerts", stdout=StringIO())
    assert JobRun.objects.get(name="fleet_alerts").status == JobRun.Status.SUCCEEDED


def test_maintenance_resets_the_schedule_and_the_odometer_only_goes_up(boss):
    vehicle = VehicleFactory(odometer_km=2900, maintenance_interval_km=3000,
                             last_maintenance_km=0)
    vehicle_save(vehicle=vehicle, actor=boss, created=False)
    assert vehicle.maintenance_due_km == 3000
    vehicle_odometer_update(vehicle=vehicle, odometer_km=3000, actor=boss)
    assert not selectors.vehicles_usable().filter(pk=vehicle.pk).exists()
    record = vehicle_maintenance_record(vehicle=vehicle, performed_on=timezone.localdate(),
                                        odometer_km=3010, description="换机油",
                                        cost="350.50", actor=boss)
    vehicle.refresh_from_db()
    assert (vehicle.maintenance_due_km, vehicle.odometer_km) == (6010, 3010)
    assert vehicle.maintenance_due_on == timezone.localdate() + timedelta(days=90)
    assert str(record.cost) == "350.50"
    assert selectors.vehicles_usable().filter(pk=vehicle.pk).exists()
    with pytest.raises(BusinessRuleViolation):
        vehicle_odometer_update(vehicle=vehicle, odometer_km=10, actor=boss)
    with pytest.raises(BusinessRuleViolation):
        vehicle_maintenance_record(vehicle=vehicle, performed_on=timezone.localdate(),
                                   odometer_km=5, description="x", actor=boss)
    with pytest.raises(BusinessRuleViolation):
        vehicle_insurance_renew(vehicle=vehicle, policy_no="X",
                                expires_on=timezone.localdate(), actor=boss)


def test_a_failed_equipment_check_takes_the_vehicle_out_until_it_passes(boss, zone):
    courier = CourierFactory(zones=[zone])
    box = Equipment.objects.create(kind=EquipmentKind.INSULATED_BOX, serial_no="BOX-2",
                                   vehicle=courier.vehicle,
                                   next_check_due_on=timezone.localdate())
    equipment_check_record(equipment=box, passed=False, notes="密封条破损", actor=boss)
    box.refresh_from_db()
    assert box.status == EquipmentStatus.FAILED
    assert not selectors.vehicles_usable().filter(pk=courier.vehicle_id).exists()
    assert not selectors.couriers_dispatchable(zone=zone).filter(pk=courier.pk).exists()
    assert "equipment_failed" in selectors.courier_dispatch_problems(courier=courier)
    equipment_check_record(equipment=box, passed=True, actor=boss)
    assert selectors.couriers_dispatchable(zone=zone).filter(pk=courier.pk).exists()
    box.refresh_from_db()
    assert box.next_check_due_on == timezone.localdate() + timedelta(days=30)


def test_vehicle_status_map(boss):
    vehicle = VehicleFactory()
    vehicle_status_change(vehicle=vehicle, to_status=VehicleStatus.RETIRED, actor=boss)
    with pytest.raises(DomainError):
        vehicle_status_change(vehicle=vehicle, to_status=VehicleStatus.ACTIVE, actor=boss)


def test_database_refuses_broken_records():
    with pytest.raises(IntegrityError), transaction.atomic():
        CourierFactory(shift_start=time(18), shift_end=time(8))
    with pytest.raises(IntegrityError), transaction.atomic():
        VehicleFactory(capacity_weight_kg=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        TrainingCourse.objects.create(code="p", name="p", kind=CourseKind.PERIODIC)
