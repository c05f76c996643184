"""Every write of the delivery fleet and the courier flow. Each public
service is one transaction that locks what it changes (in the order of
`delivery.locks`), checks the transition, writes its event row and the audit
trail. Dispatch lives in `delivery.dispatch`, carriers in
`delivery.carriers`."""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.errors import BusinessRuleViolation, DomainError, InvalidTransition
from core.money import money
from customer_service.models import Ticket
from customer_service.services import ticket_open
from delivery import policy, selectors
from delivery.enums import (
    COURIER_STATUS_EVENTS,
    COURIER_TRANSITIONS,
    DELIVERY_TRANSITIONS,
    REFUSAL_REASONS,
    TRAINING_TRANSITIONS,
    VEHICLE_TRANSITIONS,
    AlertKind,
    CourierStatus,
    CourseKind,
    DeliveryErrorCode,
    DeliveryEventKind,
    DeliveryStatus,
    EquipmentStatus,
    FailureReason,
    IssueKind,
    TrainingStatus,
)
from delivery.locks import (
    courier_lock,
    delivery_lock,
    equipment_lock,
    vehicle_lock,
)
from delivery.models import (
    Carrier,
    Courier,
    CourierPosition,
    Delivery,
    DeliveryEvent,
    DeliveryIssue,
    Equipment,
    EquipmentCheck,
    FleetAlert,
    FleetEvent,
    MaintenanceRecord,
    TrainingCourse,
    TrainingRecord,
    Vehicle,
    Zone,
)
from delivery.notifications import delivery_failed_notification, handover_code_notification
from sales.enums import OrderStatus
from sales.locks import order_lock
from sales.services import order_advance

# Steps a picked-up order takes to `dispatched` (the store's hand-over to the
# courier confirms picking and packing when nobody recorded them before).
TO_DISPATCHED = {OrderStatus.CONFIRMED: [OrderStatus.PICKING, OrderStatus.PACKED,
                                         OrderStatus.DISPATCHED],
                 OrderStatus.PICKING: [OrderStatus.PACKED, OrderStatus.DISPATCHED],
                 OrderStatus.PACKED: [OrderStatus.DISPATCHED]}
RETAKE_AFTER_DAYS = 14
ONBOARDING_DUE_DAYS = 7


def _label(actor) -> str:
    return getattr(actor, "username", "") or ""


def _user(actor):
    return actor if getattr(actor, "pk", None) else None


def _alerts_resolve(*keys: str) -> int:
    """Close the open fleet alerts with these keys; how many were open."""
    return FleetAlert.objects.filter(key__in=keys, resolved_at__isnull=True).update(
        resolved_at=timezone.now())


def _fleet_event(*, kind: str, actor, courier=None, vehicle=None, equipment=None,
                 from_status: str = "", to_status: str = "", reason: str = "",
                 data: dict | None = None) -> FleetEvent:
    return FleetEvent.objects.create(kind=kind, courier=courier, vehicle=vehicle,
                                     equipment=equipment, from_status=from_status,
                                     to_status=to_status, actor=_user(actor),
                                     actor_label=_label(actor), reason=reason[:255],
                                     data=data or {})


def _months_later(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for dom in (day.day, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=dom)
        except ValueError:
            continue
    raise ValueError(day)


# --- couriers and training --------------------------------------------------------------------


@transaction.atomic
def courier_hire(*, employee_no: str, name: str, phone: str, hired_on: date, shift_start,
                 shift_end, actor, zones: list[Zone] | None = None,
                 employment_type: str = "full_time", licence_no: str = "",
                 licence_expires_on: date | None = None, user=None, vehicle: Vehicle | None = None,
                 daily_capacity: int = 40, hiring_notes: str = "") -> Courier:
    """Record a hire (status on-boarding) and schedule every on-boarding course."""
    if shift_end <= shift_start:
        raise DomainError(_("The shift must end after it starts."), code="invalid",
                          status_code=400, fields={"shift_end": [_("Must be after the start.")]})
    courier = Courier.objects.create(
        employee_no=employee_no, name=name, phone=phone, hired_on=hired_on,
        shift_start=shift_start, shift_end=shift_end, employment_type=employment_type,
        licence_no=licence_no, licence_expires_on=licence_expires_on, user=user,
        vehicle=vehicle, daily_capacity=daily_capacity, hiring_notes=hiring_notes)
    if zones:
        courier.zones.set(zones)
    courses = TrainingCourse.objects.filter(kind=CourseKind.ONBOARDING).order_by("pk")
    TrainingRecord.objects.bulk_create(
        TrainingRecord(courier=courier, course=course,
                       due_on=hired_on + timedelta(days=ONBOARDING_DUE_DAYS))
        for course in courses)
    _fleet_event(kind="hired", courier=courier, actor=actor, to_status=courier.status)
    audit_record(actor=actor, action="courier.hire", target=courier,
                 data={"employee_no": employee_no})
    return courier


@transaction.atomic
def courier_status_change(*, courier: Courier, to_status: str, actor, reason: str = ""
                          ) -> Courier:
    """Activate, send on leave, suspend, let go. Activation needs every
    on-boarding course passed (培訓合格后方可上崗)."""
    courier = courier_lock(courier_id=courier.pk)
    if to_status not in COURIER_TRANSITIONS[courier.status]:
        raise InvalidTransition(
            _("A courier cannot go from %(from)s to %(to)s.") % {
                "from": courier.get_status_display(), "to": CourierStatus(to_status).label},
            code=DeliveryErrorCode.INVALID_TRANSITION)
    if (to_status == CourierStatus.ACTIVE
            and not selectors.couriers_trained().filter(pk=courier.pk).exists()):
        raise BusinessRuleViolation(_("The courier has not passed on-boarding training."),
                                    code=DeliveryErrorCode.NOT_TRAINED)
    old = courier.status
    courier.status = to_status
    courier.save(update_fields=["status"])
    _fleet_event(kind="status", courier=courier, actor=actor, from_status=old,
                 to_status=to_status, reason=reason)
    audit_record(actor=actor, action=f"courier.{to_status}", target=courier, reason=reason)
    return courier


@transaction.atomic
def training_schedule(*, courier: Courier, course: TrainingCourse, due_on: date, actor
                      ) -> TrainingRecord:
    courier = courier_lock(courier_id=courier.pk)
    if TrainingRecord.objects.filter(courier=courier, course=course,
                                     status=TrainingStatus.SCHEDULED).exists():
        raise DomainError(_("This course is already scheduled for the courier."),
                          code="training_already_scheduled")
    record = TrainingRecord.objects.create(courier=courier, course=course, due_on=due_on)
    audit_record(actor=actor, action="training.schedule", target=record,
                 data={"course": course.code, "due_on": due_on.isoformat()})
    return record


@transaction.atomic
def training_record_complete(*, record: TrainingRecord, passed: bool, actor,
                             score: int | None = None, completed_on: date | None = None,
                             trainer: str = "") -> TrainingRecord:
    """Pass or fail a session. Passing a periodic course schedules the next
    one; failing schedules a retake. Locks the courier row: dispatch reads
    training under that lock."""
    courier_lock(courier_id=record.courier_id)
    record = TrainingRecord.objects.select_for_update().select_related("course").get(
        pk=record.pk)
    to_status = TrainingStatus.PASSED if passed else TrainingStatus.FAILED
    if to_status not in TRAINING_TRANSITIONS[record.status]:
        raise InvalidTransition(_("This training session is already completed."),
                                code=DeliveryErrorCode.INVALID_TRANSITION)
    course = record.course
    if score is not None and passed and score < course.pass_score:
        raise BusinessRuleViolation(
            _("A score of %(score)d is below the pass mark of %(pass)d.") % {
                "score": score, "pass": course.pass_score}, code="score_below_pass",
            fields={"score": [_("Below the pass mark.")]})
    completed_on = completed_on or selectors.today_local()
    record.status = to_status
    record.score = score
    record.completed_on = completed_on
    record.trainer = trainer or record.trainer
    record.save(update_fields=["status", "score", "completed_on", "trainer"])
    next_due = None
    if passed and course.kind == CourseKind.PERIODIC:
        next_due = _months_later(completed_on, course.interval_months)
    elif not passed:
        next_due = completed_on + timedelta(days=RETAKE_AFTER_DAYS)
    if next_due is not None:
        TrainingRecord.objects.create(courier_id=record.courier_id, course=course,
                                      due_on=next_due)
    _alerts_resolve(f"{AlertKind.TRAINING_OVERDUE}:{record.pk}")
    _fleet_event(kind="training", courier=record.courier, actor=actor, to_status=to_status,
                 data={"record": record.pk, "course": course.code, "score": score})
    audit_record(actor=actor, action=f"training.{to_status}", target=record,
                 data={"course": course.code, "score": score})
    return record


# --- vehicles and equipment -------------------------------------------------------------------


def vehicle_due_fields(vehicle: Vehicle) -> None:
    vehicle.maintenance_due_on, vehicle.maintenance_due_km = policy.maintenance_due(
        last_on=vehicle.last_maintenance_on, last_km=vehicle.last_maintenance_km,
        interval_days=vehicle.maintenance_interval_days,
        interval_km=vehicle.maintenance_interval_km)


@transaction.atomic
def vehicle_save(*, vehicle: Vehicle, actor, created: bool) -> Vehicle:
    """Register a vehicle or save its record (admin form): the maintenance
    due date and reading follow from the last maintenance and the intervals."""
    if not created:
        vehicle_lock(vehicle_id=vehicle.pk)
    vehicle_due_fields(vehicle)
    vehicle.save()
    audit_record(actor=actor, action="vehicle.register" if created else "vehicle.update",
                 target=vehicle, data={"plate": vehicle.plate})
    return vehicle


@transaction.atomic
def vehicle_maintenance_record(*, vehicle: Vehicle, performed_on: date, odometer_km: int,
                               description: str, actor, cost: Decimal = Decimal("0")
                               ) -> MaintenanceRecord:
    vehicle = vehicle_lock(vehicle_id=vehicle.pk)
    if odometer_km < vehicle.last_maintenance_km:
        raise BusinessRuleViolation(_("The odometer cannot go backwards."),
                                    code=DeliveryErrorCode.ODOMETER_BACKWARDS,
                                    fields={"odometer_km": [_("Lower than the last reading.")]})
    record = MaintenanceRecord.objects.create(vehicle=vehicle, performed_on=performed_on,
                                              odometer_km=odometer_km, description=description,
                                              cost=money(cost), recorded_by=_user(actor))
    vehicle.last_maintenance_on = performed_on
    vehicle.last_maintenance_km = odometer_km
    vehicle.odometer_km = max(vehicle.odometer_km, odometer_km)
    vehicle_due_fields(vehicle)
    vehicle.save(update_fields=["last_maintenance_on", "last_maintenance_km", "odometer_km",
                                "maintenance_due_on", "maintenance_due_km"])
    _alerts_resolve(f"{AlertKind.MAINTENANCE_DUE}:{vehicle.pk}")
    _fleet_event(kind="maintenance", vehicle=vehicle, actor=actor, reason=description,
                 data={"odometer_km": odometer_km, "cost": str(record.cost)})
    audit_record(actor=actor, action="vehicle.maintenance", target=vehicle, reason=description,
                 data={"odometer_km": odometer_km, "cost": str(record.cost)})
    return record


@transaction.atomic
def vehicle_odometer_update(*, vehicle: Vehicle, odometer_km: int, actor) -> Vehicle:
    vehicle = vehicle_lock(vehicle_id=vehicle.pk)
    if odometer_km < vehicle.odometer_km:
        raise BusinessRuleViolation(_("The odometer cannot go backwards."),
                                    code=DeliveryErrorCode.ODOMETER_BACKWARDS,
                                    fields={"odometer_km": [_("Lower than the last reading.")]})
    old = vehicle.odometer_km
    vehicle.odometer_km = odometer_km
    vehicle.save(update_fields=["odometer_km"])
    audit_record(actor=actor, action="vehicle.odometer", target=vehicle,
                 data={"from": old, "to": odometer_km})
    return vehicle


@transaction.atomic
def vehicle_insurance_renew(*, vehicle: Vehicle, policy_no: str, expires_on: date, actor,
                            insurer: str = "") -> Vehicle:
    vehicle = vehicle_lock(vehicle_id=vehicle.pk)
    if expires_on <= selectors.today_local():
        raise BusinessRuleViolation(_("The new policy must expire in the future."),
                                    code="invalid", fields={"expires_on": [_("In the past.")]})
    old = (vehicle.insurance_policy_no, vehicle.insurance_expires_on.isoformat())
    vehicle.insurance_policy_no = policy_no
    vehicle.insurance_expires_on = expires_on
    vehicle.insurer = insurer or vehicle.insurer
    vehicle.save(update_fields=["insurance_policy_no", "insurance_expires_on", "insurer"])
    _alerts_resolve(f"{AlertKind.INSURANCE_EXPIRING}:{vehicle.pk}")
    audit_record(actor=actor, action="vehicle.insurance", target=vehicle,
                 data={"old": list(old), "policy": policy_no, "expires_on": expires_on.isoformat()})
    return vehicle


@transaction.atomic
def vehicle_status_change(*, vehicle: Vehicle, to_status: str, actor, reason: str = ""
                          ) -> Vehicle:
    vehicle = vehicle_lock(vehicle_id=vehicle.pk)
    if to_status not in VEHICLE_TRANSITIONS[vehicle.status]:
        raise InvalidTransition(_("That vehicle status change is not allowed."),
                                code=DeliveryErrorCode.INVALID_TRANSITION)
    old = vehicle.status
    vehicle.status = to_status
    vehicle.save(update_fields=["status"])
    _fleet_event(kind="status", vehicle=vehicle, actor=actor, from_status=old,
                 to_status=to_status, reason=reason)
    audit_record(actor=actor, action=f"vehicle.{to_status}", target=vehicle, reason=reason)
    return vehicle


@transaction.atomic
def equipment_check_record(*, equipment: Equipment, passed: bool, actor,
                           checked_on: date | None = None, notes: str = "") -> EquipmentCheck:
    """A periodic check. A failed item takes its vehicle (or courier) out of
    dispatch until a later check passes."""
    equipment = equipment_lock(equipment_id=equipment.pk)
    if equipment.vehicle_id:
        vehicle_lock(vehicle_id=equipment.vehicle_id)
    if equipment.courier_id:
        courier_lock(courier_id=equipment.courier_id)
    if equipment.status == EquipmentStatus.RETIRED:
        raise InvalidTransition(_("Retired equipment is not checked."),
                                code=DeliveryErrorCode.INVALID_TRANSITION)
    checked_on = checked_on or selectors.today_local()
    check = EquipmentCheck.objects.create(equipment=equipment, checked_on=checked_on,
                                          passed=passed, notes=notes, checked_by=_user(actor))
    old = equipment.status
    equipment.status = EquipmentStatus.OK if passed else EquipmentStatus.FAILED
    equipment.last_checked_on = checked_on
    equipment.next_check_due_on = checked_on + timedelta(days=equipment.check_interval_days)
    equipment.save(update_fields=["status", "last_checked_on", "next_check_due_on"])
    if passed:
        _alerts_resolve(f"{AlertKind.EQUIPMENT_FAILED}:{equipment.pk}",
                        f"{AlertKind.EQUIPMENT_CHECK_DUE}:{equipment.pk}")
    _fleet_event(kind="check", equipment=equipment, actor=actor, from_status=old,
                 to_status=equipment.status, reason=notes)
    audit_record(actor=actor, action="equipment.check", target=equipment, reason=notes,
                 data={"passed": passed})
    return check


# --- alerts -----------------------------------------------------------------------------------


def fleet_alerts_refresh(*, today: date | None = None) -> dict[str, int]:
    """Open an alert for each problem that has none open; resolve alerts
    whose problem went away. Safe to run twice (one open alert per key)."""
    today = today or selectors.today_local()
    wanted: dict[str, dict] = {}
    for record in (TrainingRecord.objects.filter(status=TrainingStatus.SCHEDULED,
                                                 due_on__lt=today)
                   .exclude(courier__status=CourierStatus.LEFT)
                   .select_related("courier", "course")):
        wanted[f"{AlertKind.TRAINING_OVERDUE}:{record.pk}"] = {
            "kind": AlertKind.TRAINING_OVERDUE, "courier": record.courier, "due_on": record.due_on,
            "message": _("%(courier)s: %(course)s was due on %(due)s") % {
                "courier": record.courier.name, "course": record.course.name,
                "due": record.due_on}}
    vehicles = Vehicle.objects.exclude(status="retired")
    for vehicle in vehicles:
        if (vehicle.maintenance_due_on <= today + timedelta(days=policy.MAINTENANCE_WARN_DAYS)
                or vehicle.odometer_km + policy.MAINTENANCE_WARN_KM >= vehicle.maintenance_due_km):
            wanted[f"{AlertKind.MAINTENANCE_DUE}:{vehicle.pk}"] = {
                "kind": AlertKind.MAINTENANCE_DUE, "vehicle": vehicle,
                "due_on": vehicle.maintenance_due_on,
                "message": _("%(plate)s: maintenance due on %(due)s or at %(km)d km") % {
                    "plate": vehicle.plate, "due": vehicle.maintenance_due_on,
                    "km": vehicle.maintenance_due_km}}
        if vehicle.insurance_expires_on <= today + timedelta(days=policy.INSURANCE_WARN_DAYS):
            wanted[f"{AlertKind.INSURANCE_EXPIRING}:{vehicle.pk}"] = {
                "kind": AlertKind.INSURANCE_EXPIRING, "vehicle": vehicle,
                "due_on": vehicle.insurance_expires_on,
                "message": _("%(plate)s: insurance expires on %(due)s") % {
                    "plate": vehicle.plate, "due": vehicle.insurance_expires_on}}
    for item in Equipment.objects.exclude(status=EquipmentStatus.RETIRED):
        if item.status == EquipmentStatus.FAILED:
            wanted[f"{AlertKind.EQUIPMENT_FAILED}:{item.pk}"] = {
                "kind": AlertKind.EQUIPMENT_FAILED, "equipment": item,
                "vehicle_id": item.vehicle_id, "courier_id": item.courier_id,
                "message": _("%(item)s failed its last check") % {"item": item}}
        elif item.next_check_due_on < today:
            wanted[f"{AlertKind.EQUIPMENT_CHECK_DUE}:{item.pk}"] = {
                "kind": AlertKind.EQUIPMENT_CHECK_DUE, "equipment": item,
                "due_on": item.next_check_due_on,
                "vehicle_id": item.vehicle_id, "courier_id": item.courier_id,
                "message": _("%(item)s: check was due on %(due)s") % {
                    "item": item, "due": item.next_check_due_on}}
    for carrier in Carrier.objects.filter(
            is_active=True,
            licence_expires_on__lte=today + timedelta(days=policy.LICENCE_WARN_DAYS)):
        wanted[f"{AlertKind.CARRIER_LICENCE_EXPIRING}:{carrier.pk}"] = {
            "kind": AlertKind.CARRIER_LICENCE_EXPIRING, "carrier": carrier,
            "due_on": carrier.licence_expires_on,
            "message": _("%(carrier)s: express licence expires on %(due)s") % {
                "carrier": carrier.name, "due": carrier.licence_expires_on}}

    opened = resolved = 0
    with transaction.atomic():
        open_keys = set(FleetAlert.objects.select_for_update()
                        .filter(resolved_at__isnull=True).values_list("key", flat=True))
        stale = open_keys - set(wanted)
        if stale:
            resolved = _alerts_resolve(*stale)
        new = [FleetAlert(key=key, message=str(spec.pop("message"))[:255], **spec)
               for key, spec in sorted(wanted.items()) if key not in open_keys]
        FleetAlert.objects.bulk_create(new)
        opened = len(new)
    return {"opened": opened, "resolved": resolved, "open": len(wanted)}


# --- the courier flow -------------------------------------------------------------------------


def _delivery_event(delivery: Delivery, kind: str, *, actor, from_status: str = "",
                    to_status: str = "", note: str = "", lat=None, lng=None,
                    data: dict | None = None) -> DeliveryEvent:
    return DeliveryEvent.objects.create(delivery=delivery, kind=kind, from_status=from_status,
                                        to_status=to_status, actor=_user(actor),
                                        actor_label=_label(actor), note=note[:255], lat=lat,
                                        lng=lng, data=data or {})


def _own(delivery: Delivery, courier: Courier) -> None:
    if delivery.courier_id != courier.pk:
        raise DomainError(_("Not found."), code="not_found", status_code=404)


def _transition(delivery: Delivery, to_status: str) -> str:
    if to_status not in DELIVERY_TRANSITIONS[delivery.status]:
        raise InvalidTransition(
            _("The delivery is %(status)s; that is not possible now.") % {
                "status": delivery.get_status_display()},
            code=DeliveryErrorCode.INVALID_TRANSITION)
    old = delivery.status
    delivery.status = to_status
    return old


def _locked(delivery: Delivery, courier: Courier | None) -> Delivery:
    """Lock order, then delivery (the global lock order)."""
    order_lock(order_id=delivery.order_id)
    locked = delivery_lock(delivery_id=delivery.pk)
    if courier is not None:
        _own(locked, courier)
    return locked


def delivery_pickup(*, delivery: Delivery, courier: Courier, lines: list[tuple[str, int]],
                    actor) -> Delivery:
    """The store hands the goods to the courier, who counts them (000
    配送流程規範 2). Every SKU and quantity must match the order; a mismatch
    is refused and logged. The order goes to `dispatched`."""
    mismatch = None
    with transaction.atomic():
        delivery = _locked(delivery, courier)
        order = delivery.order
        if delivery.status == DeliveryStatus.ASSIGNED and courier.status != CourierStatus.ACTIVE:
            raise DomainError(_("Only active couriers pick up goods; the stop goes to another "
                                "courier."), code=DeliveryErrorCode.NOT_DISPATCHABLE)
        if delivery.status == DeliveryStatus.ASSIGNED and order.status not in TO_DISPATCHED:
            raise DomainError(_("Order %(number)s is %(status)s and cannot be picked up.") % {
                "number": order.number, "status": order.get_status_display()},
                code=DeliveryErrorCode.ORDER_NOT_OPEN)
        _transition(delivery, DeliveryStatus.PICKED_UP)
        expected = {line.sku_code: line.quantity for line in order.lines.all()}
        counted: dict[str, int] = {}
        for sku, quantity in lines:
            counted[sku] = counted.get(sku, 0) + quantity
        errors: dict[str, list[str]] = {}
        for index, (sku, _quantity) in enumerate(lines):
            if sku not in expected:
                errors[f"lines.{index}.sku"] = [_("Not on this order.")]
            elif counted[sku] != expected[sku]:
                errors[f"lines.{index}.quantity"] = [
                    _("The order has %(n)d of this SKU.") % {"n": expected[sku]}]
        for sku, quantity in expected.items():
            if sku not in counted:
                errors.setdefault("lines", []).append(
                    _("%(sku)s × %(n)d is missing.") % {"sku": sku, "n": quantity})
        if errors:
            delivery.status = DeliveryStatus.ASSIGNED
            _delivery_event(delivery, DeliveryEventKind.PICKUP_MISMATCH, actor=actor,
                            data={"expected": expected, "counted": counted})
            mismatch = BusinessRuleViolation(
                _("The quantities do not match the order; check the goods with the store."),
                code=DeliveryErrorCode.QUANTITY_MISMATCH, fields=errors)
        else:
            now = timezone.now()
            delivery.picked_up_at = now
            delivery.save(update_fields=["status", "picked_up_at", "updated_at"])
            for step in TO_DISPATCHED.get(order.status, []):
                order_advance(order=order, to_status=step, actor=actor,
                              reason=_("Handed to courier %(name)s") % {"name": courier.name})
            _delivery_event(delivery, DeliveryEventKind.PICKED_UP, actor=actor,
                            from_status=DeliveryStatus.ASSIGNED,
                            to_status=DeliveryStatus.PICKED_UP, data={"counted": counted})
            audit_record(actor=actor, action="delivery.pickup", target=delivery,
                         data={"order": order.number})
    if mismatch is not None:
        raise mismatch
    return delivery


def delivery_handover(*, delivery: Delivery, courier: Courier, code: str, actor) -> Delivery:
    """Door delivery with the customer's hand-over code (000 配送流程規範 4:
    確認客戶身份). A wrong code is refused and the attempt logged (event and
    audit row, committed before the refusal); after MAX_HANDOVER_ATTEMPTS
    wrong codes the hand-over is locked until a dispatcher issues a new code."""
    refusal = None
    with transaction.atomic():
        delivery = _locked(delivery, courier)
        if DeliveryStatus.DELIVERED not in DELIVERY_TRANSITIONS[delivery.status]:
            _transition(delivery, DeliveryStatus.DELIVERED)  # raises
        locked = delivery.handover_attempts >= policy.MAX_HANDOVER_ATTEMPTS
        if locked or not secrets.compare_digest(str(code).encode(),
                                                delivery.handover_code.encode()):
            if not locked:
                delivery.handover_attempts = F("handover_attempts") + 1
                delivery.save(update_fields=["handover_attempts", "updated_at"])
                delivery.refresh_from_db(fields=["handover_attempts"])
            _delivery_event(delivery, DeliveryEventKind.HANDOVER_REJECTED, actor=actor,
                            data={"attempts": delivery.handover_attempts, "locked": locked})
            audit_record(actor=actor, action="delivery.handover_rejected", target=delivery,
                         data={"attempts": delivery.handover_attempts, "locked": locked})
            if locked:
                refusal = DomainError(_("Too many wrong codes: ask the dispatcher for a new "
                                        "code."), code=DeliveryErrorCode.HANDOVER_LOCKED,
                                      status_code=423)
            else:
                refusal = BusinessRuleViolation(
                    _("Wrong hand-over code."), code=DeliveryErrorCode.HANDOVER_CODE_INVALID,
                    fields={"code": [_("Does not match the customer's code.")]})
        else:
            old = _transition(delivery, DeliveryStatus.DELIVERED)
            now = timezone.now()
            delivery.delivered_at = delivery.closed_at = now
            delivery.save(update_fields=["status", "delivered_at", "closed_at", "updated_at"])
            order_advance(order=delivery.order, to_status=OrderStatus.DELIVERED, actor=actor,
                          reason=_("Handed over by courier %(name)s") % {"name": courier.name})
            _delivery_event(delivery, DeliveryEventKind.DELIVERED, actor=actor, from_status=old,
                            to_status=DeliveryStatus.DELIVERED)
            audit_record(actor=actor, action="delivery.deliver", target=delivery,
                         data={"order": delivery.order.number})
    if refusal is not None:
        raise refusal
    return delivery


@transaction.atomic
def delivery_handover_reset(*, delivery: Delivery, actor, reason: str = "") -> Delivery:
    """A dispatcher issues a new hand-over code (after a lock-out)."""
    delivery = _locked(delivery, None)
    if delivery.status not in (DeliveryStatus.ASSIGNED, DeliveryStatus.PICKED_UP):
        raise InvalidTransition(_("The delivery is closed."),
                                code=DeliveryErrorCode.INVALID_TRANSITION)
    delivery.handover_code = policy.handover_code_new()
    delivery.handover_attempts = 0
    delivery.save(update_fields=["handover_code", "handover_attempts", "updated_at"])
    handover_code_notification(delivery=delivery)
    _delivery_event(delivery, DeliveryEventKind.NOTE, actor=actor, note=_("New hand-over code"))
    audit_record(actor=actor, action="delivery.handover_reset", target=delivery, reason=reason)
    return delivery


@transaction.atomic
def delivery_fail(*, delivery: Delivery, courier: Courier, reason: str, actor,
                  note: str = "") -> Delivery:
    """A failed or refused delivery (000 配送流程規範 4: handled by policy):
    recorded with its reason, the customer told, and a customer-service
    follow-up opened (one per delivery). A refusal because of damaged goods
    also counts as damage on the courier's record."""
    delivery = _locked(delivery, courier)
    refused = reason in REFUSAL_REASONS
    to_status = DeliveryStatus.REFUSED if refused else DeliveryStatus.FAILED
    old = _transition(delivery, to_status)
    delivery.failure_reason = reason
    delivery.failure_note = note[:255]
    delivery.closed_at = timezone.now()
    delivery.save(update_fields=["status", "failure_reason", "failure_note", "closed_at",
                                 "updated_at"])
    order = delivery.order
    _delivery_event(delivery, DeliveryEventKind.REFUSED if refused else DeliveryEventKind.FAILED,
                    actor=actor, from_status=old, to_status=to_status, note=note,
                    data={"reason": reason})
    if reason == FailureReason.REFUSED_DAMAGED:
        DeliveryIssue.objects.create(delivery=delivery, kind=IssueKind.DAMAGE, note=note[:255],
                                     actor_label=_label(actor))
    delivery_failed_notification(delivery=delivery)
    kind = Ticket.Kind.DELIVERY_REFUSED if refused else Ticket.Kind.DELIVERY_FAILED
    ticket_open(kind=kind, order=order, actor=actor,
                source_key=f"delivery:{delivery.pk}:{to_status}",
                subject=_("%(kind)s: order %(number)s (%(reason)s)") % {
                    "kind": Ticket.Kind(kind).label, "number": order.number,
                    "reason": FailureReason(reason).label},
                description=note)
    audit_record(actor=actor, action=f"delivery.{to_status}", target=delivery, reason=note,
                 data={"reason": reason, "order": order.number})
    return delivery


@transaction.atomic
def delivery_rate(*, delivery: Delivery, rating: int, actor, comment: str = "",
                  courier: Courier | None = None) -> Delivery:
    """The customer's rating of a delivered order (000 配送流程規範 5), once."""
    delivery = _locked(delivery, courier)
    if delivery.status != DeliveryStatus.DELIVERED:
        raise InvalidTransition(_("Only delivered orders can be rated."),
                                code=DeliveryErrorCode.INVALID_TRANSITION)
    if delivery.rating is not None:
        raise DomainError(_("This delivery is already rated."),
                          code=DeliveryErrorCode.ALREADY_RATED)
    delivery.rating = rating
    delivery.rating_comment = comment[:255]
    delivery.save(update_fields=["rating", "rating_comment", "updated_at"])
    _delivery_event(delivery, DeliveryEventKind.RATED, actor=actor, note=comment,
                    data={"rating": rating})
    return delivery


@transaction.atomic
def delivery_status_post(*, delivery: Delivery, courier: Courier, kind: str, actor,
                         note: str = "", lat=None, lng=None) -> DeliveryEvent:
    """A courier's status post on an open delivery (arriving, delayed, note)."""
    delivery = _locked(delivery, courier)
    if kind not in COURIER_STATUS_EVENTS:
        raise DomainError(_("Unknown event."), code="invalid", status_code=400,
                          fields={"kind": [_("Not a courier status event.")]})
    if delivery.status not in (DeliveryStatus.ASSIGNED, DeliveryStatus.PICKED_UP):
        raise InvalidTransition(_("The delivery is closed."),
                                code=DeliveryErrorCode.INVALID_TRANSITION)
    return _delivery_event(delivery, kind, actor=actor, note=note, lat=lat, lng=lng)


@transaction.atomic
def courier_position_record(*, courier: Courier, lat: Decimal, lng: Decimal,
                            recorded_at: datetime | None = None) -> CourierPosition:
    """A location ping from the courier app (real-time tracking). The
    courier's last position only moves forward in time (pings may arrive
    out of order)."""
    recorded_at = recorded_at or timezone.now()
    position = CourierPosition.objects.create(courier=courier, lat=lat, lng=lng,
                                              recorded_at=recorded_at)
    Courier.objects.filter(pk=courier.pk).filter(
        Q(last_seen_at__isnull=True) | Q(last_seen_at__lte=recorded_at)).update(
        last_lat=lat, last_lng=lng, last_seen_at=recorded_at)
    return position


@transaction.atomic
def delivery_issue_record(*, delivery: Delivery, kind: str, actor, note: str = ""
                          ) -> DeliveryIssue:
    """Damage or a complaint found after the fact (customer service, a
    dispatcher): it counts on the courier's monthly record."""
    issue = DeliveryIssue.objects.create(delivery=delivery, kind=kind, note=note[:255],
                                         actor_label=_label(actor))
    audit_record(actor=actor, action=f"delivery.issue.{kind}", target=delivery, reason=note)
    return issue
