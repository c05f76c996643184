"""Statuses, kinds and error codes of the delivery department (SPEC §3).

Every status has an explicit transition map; anything not listed is refused
by the service that changes it."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CourierStatus(models.TextChoices):
    ONBOARDING = "onboarding", _("On-boarding")
    ACTIVE = "active", _("Active")
    ON_LEAVE = "on_leave", _("On leave")
    SUSPENDED = "suspended", _("Suspended")
    LEFT = "left", _("Left the company")


CS = CourierStatus
COURIER_TRANSITIONS: dict[str, set[str]] = {
    CS.ONBOARDING: {CS.ACTIVE, CS.LEFT},
    CS.ACTIVE: {CS.ON_LEAVE, CS.SUSPENDED, CS.LEFT},
    CS.ON_LEAVE: {CS.ACTIVE, CS.LEFT},
    CS.SUSPENDED: {CS.ACTIVE, CS.LEFT},
    CS.LEFT: set(),
}


class EmploymentType(models.TextChoices):
    FULL_TIME = "full_time", _("Full time")
    PART_TIME = "part_time", _("Part time")
    CONTRACTOR = "contractor", _("Contractor")


class CourseKind(models.TextChoices):
    ONBOARDING = "onboarding", _("On-boarding (required before dispatch)")
    PERIODIC = "periodic", _("Periodic")


class TrainingStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed")


TRAINING_TRANSITIONS: dict[str, set[str]] = {
    TrainingStatus.SCHEDULED: {TrainingStatus.PASSED, TrainingStatus.FAILED},
    TrainingStatus.PASSED: set(),
    TrainingStatus.FAILED: set(),
}


class VehicleKind(models.TextChoices):
    E_BIKE = "e_bike", _("Electric bike")
    TRICYCLE = "tricycle", _("Electric tricycle")
    VAN = "van", _("Van")
    CAR = "car", _("Car")


class VehicleStatus(models.TextChoices):
    ACTIVE = "active", _("In service")
    IN_MAINTENANCE = "in_maintenance", _("In maintenance")
    RETIRED = "retired", _("Retired")


VS = VehicleStatus
VEHICLE_TRANSITIONS: dict[str, set[str]] = {
    VS.ACTIVE: {VS.IN_MAINTENANCE, VS.RETIRED},
    VS.IN_MAINTENANCE: {VS.ACTIVE, VS.RETIRED},
    VS.RETIRED: set(),
}


class EquipmentKind(models.TextChoices):
    INSULATED_BOX = "insulated_box", _("Insulated box")
    EXTINGUISHER = "extinguisher", _("Fire extinguisher")
    PHONE = "phone", _("Phone")
    OTHER = "other", _("Other")


class EquipmentStatus(models.TextChoices):
    OK = "ok", _("OK")
    FAILED = "failed", _("Failed its check")
    RETIRED = "retired", _("Retired")


class DeliveryStatus(models.TextChoices):
    ASSIGNED = "assigned", _("Assigned")
    PICKED_UP = "picked_up", _("Picked up")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    REFUSED = "refused", _("Refused")
    CANCELLED = "cancelled", _("Cancelled")


DS = DeliveryStatus
DELIVERY_TRANSITIONS: dict[str, set[str]] = {
    DS.ASSIGNED: {DS.PICKED_UP, DS.CANCELLED},
    DS.PICKED_UP: {DS.DELIVERED, DS.FAILED, DS.REFUSED},
    DS.DELIVERED: set(),
    DS.FAILED: set(),
    DS.REFUSED: set(),
    DS.CANCELLED: set(),
}
# An order has at most one delivery in these (a partial unique index).
ACTIVE_DELIVERY_STATUSES = (DS.ASSIGNED, DS.PICKED_UP)


class FailureReason(models.TextChoices):
    CUSTOMER_ABSENT = "customer_absent", _("Customer not at home")
    UNREACHABLE = "unreachable", _("Customer cannot be reached by phone")
    ADDRESS_WRONG = "address_wrong", _("Address wrong or incomplete")
    REFUSED_DAMAGED = "refused_damaged", _("Refused: goods damaged")
    REFUSED_WRONG_GOODS = "refused_wrong_goods", _("Refused: wrong goods")
    REFUSED_NOT_WANTED = "refused_not_wanted", _("Refused: no longer wanted")
    OTHER = "other", _("Other")


REFUSAL_REASONS = {FailureReason.REFUSED_DAMAGED, FailureReason.REFUSED_WRONG_GOODS,
                   FailureReason.REFUSED_NOT_WANTED}


class DeliveryEventKind(models.TextChoices):
    ASSIGNED = "assigned", _("Assigned to a courier")
    REASSIGNED = "reassigned", _("Moved to another courier")
    RESEQUENCED = "resequenced", _("Moved within the route")
    PICKED_UP = "picked_up", _("Picked up")
    PICKUP_MISMATCH = "pickup_mismatch", _("Pickup quantities did not match")
    LOCATION = "location", _("Location")
    ARRIVING = "arriving", _("Arriving soon")
    DELAYED = "delayed", _("Delayed")
    NOTE = "note", _("Note")
    DELIVERED = "delivered", _("Delivered")
    HANDOVER_REJECTED = "handover_rejected", _("Wrong hand-over code")
    FAILED = "failed", _("Delivery failed")
    REFUSED = "refused", _("Delivery refused")
    CANCELLED = "cancelled", _("Cancelled")
    RATED = "rated", _("Rated by the customer")


# What a courier may post as a status event on a delivery.
COURIER_STATUS_EVENTS = (DeliveryEventKind.ARRIVING, DeliveryEventKind.DELAYED,
                         DeliveryEventKind.NOTE)


class IssueKind(models.TextChoices):
    DAMAGE = "damage", _("Goods damaged")
    COMPLAINT = "complaint", _("Customer complaint")


class DispatchRunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    SKIPPED = "skipped", _("Skipped")
    FAILED = "failed", _("Failed")


class AlertKind(models.TextChoices):
    TRAINING_OVERDUE = "training_overdue", _("Training overdue")
    MAINTENANCE_DUE = "maintenance_due", _("Maintenance due")
    INSURANCE_EXPIRING = "insurance_expiring", _("Insurance expiring or expired")
    EQUIPMENT_CHECK_DUE = "equipment_check_due", _("Equipment check due")
    EQUIPMENT_FAILED = "equipment_failed", _("Equipment failed its check")
    CARRIER_LICENCE_EXPIRING = "carrier_licence_expiring", _("Carrier licence expiring")


class NotificationKind(models.TextChoices):
    HANDOVER_CODE = "handover_code", _("Hand-over code")
    DELIVERY_FAILED = "delivery_failed", _("Delivery attempt failed")
    SHIPMENT_DELAYED = "shipment_delayed", _("Shipment delayed")


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class ShipmentStatus(models.TextChoices):
    CREATED = "created", _("Waybill created")
    IN_TRANSIT = "in_transit", _("In transit")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    DELIVERED = "delivered", _("Delivered")
    EXCEPTION = "exception", _("Exception")
    RETURNED = "returned", _("Returned to sender")
    LOST = "lost", _("Lost")


SS = ShipmentStatus
SHIPMENT_TERMINAL = {SS.DELIVERED, SS.RETURNED, SS.LOST}
SHIPMENT_TRANSITIONS: dict[str, set[str]] = {
    SS.CREATED: {SS.IN_TRANSIT, SS.OUT_FOR_DELIVERY, SS.DELIVERED, SS.EXCEPTION, SS.RETURNED,
                 SS.LOST},
    SS.IN_TRANSIT: {SS.IN_TRANSIT, SS.OUT_FOR_DELIVERY, SS.DELIVERED, SS.EXCEPTION,
                    SS.RETURNED, SS.LOST},
    SS.OUT_FOR_DELIVERY: {SS.IN_TRANSIT, SS.OUT_FOR_DELIVERY, SS.DELIVERED, SS.EXCEPTION,
                          SS.RETURNED, SS.LOST},
    SS.EXCEPTION: {SS.IN_TRANSIT, SS.OUT_FOR_DELIVERY, SS.DELIVERED, SS.EXCEPTION,
                   SS.RETURNED, SS.LOST},
    SS.DELIVERED: set(),
    SS.RETURNED: set(),
    SS.LOST: set(),
}


class ShipmentEventKind(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted by the carrier")
    IN_TRANSIT = "in_transit", _("In transit")
    ARRIVED = "arrived", _("Arrived at a depot")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    DELIVERED = "delivered", _("Delivered")
    EXCEPTION = "exception", _("Exception")
    DAMAGED = "damaged", _("Damaged")
    RETURNED = "returned", _("Returned to sender")
    LOST = "lost", _("Lost")


# The shipment status a carrier event moves to (None: status unchanged).
SHIPMENT_EVENT_STATUS: dict[str, str | None] = {
    ShipmentEventKind.ACCEPTED: SS.IN_TRANSIT,
    ShipmentEventKind.IN_TRANSIT: SS.IN_TRANSIT,
    ShipmentEventKind.ARRIVED: SS.IN_TRANSIT,
    ShipmentEventKind.OUT_FOR_DELIVERY: SS.OUT_FOR_DELIVERY,
    ShipmentEventKind.DELIVERED: SS.DELIVERED,
    ShipmentEventKind.EXCEPTION: SS.EXCEPTION,
    ShipmentEventKind.DAMAGED: None,
    ShipmentEventKind.RETURNED: SS.RETURNED,
    ShipmentEventKind.LOST: SS.LOST,
}


class EventSource(models.TextChoices):
    API = "api", _("API")
    CSV = "csv", _("CSV import")
    STAFF = "staff", _("Staff")
    SYSTEM = "system", _("System")


class ForecastSource(models.TextChoices):
    MANUAL = "manual", _("Entered by hand")
    CAMPAIGN = "campaign", _("Campaign forecast")


class DeliveryErrorCode(models.TextChoices):
    INVALID_TRANSITION = "invalid_transition", _("That status change is not allowed")
    NOT_TRAINED = "courier_not_trained", _("The courier has not passed on-boarding")
    NOT_DISPATCHABLE = "courier_not_dispatchable", _("The courier cannot be dispatched")
    VEHICLE_UNUSABLE = "vehicle_unusable", _("The vehicle cannot be used")
    CAPACITY_EXCEEDED = "capacity_exceeded", _("The vehicle's capacity would be exceeded")
    QUANTITY_MISMATCH = "quantity_mismatch", _("Picked-up quantities do not match the order")
    ORDER_NOT_OPEN = "order_not_open", _("The order is no longer open for delivery")
    HANDOVER_CODE_INVALID = "handover_code_invalid", _("Wrong hand-over code")
    HANDOVER_LOCKED = "handover_locked", _("Too many wrong hand-over codes")
    ALREADY_RATED = "already_rated", _("The delivery is already rated")
    WRONG_ZONE = "wrong_zone", _("The courier does not serve this zone")
    WRONG_FULFILMENT = "wrong_fulfilment", _("The order is not for this kind of delivery")
    NO_CARRIER = "no_carrier", _("No carrier serves this destination")
    ODOMETER_BACKWARDS = "odometer_backwards", _("The odometer cannot go backwards")
    IMPORT_INVALID = "import_invalid", _("The file has errors; nothing was imported")
