"""Delivery tables (SPEC §3): fleet (couriers, training, vehicles, equipment),
zones and priority classes, deliveries with their events, dispatch runs,
express carriers with shipments, forecasts, alerts and the customer
notification outbox. No business logic here: the services change these rows,
the database holds the invariants."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.money import MoneyField
from delivery.enums import (
    ACTIVE_DELIVERY_STATUSES,
    AlertKind,
    CourierStatus,
    CourseKind,
    DeliveryEventKind,
    DeliveryStatus,
    DispatchRunStatus,
    EmploymentType,
    EquipmentKind,
    EquipmentStatus,
    EventSource,
    FailureReason,
    ForecastSource,
    IssueKind,
    NotificationKind,
    NotificationStatus,
    ShipmentEventKind,
    ShipmentStatus,
    TrainingStatus,
    VehicleKind,
    VehicleStatus,
)
from sales.enums import Priority


def _lat_field(label):
    return models.DecimalField(label, max_digits=9, decimal_places=6)


# --- zones and priorities ------------------------------------------------------------


class Zone(models.Model):
    """A dispatch zone: a list of districts with a centre point (coordinates
    are projected to metres around it) and the hub its couriers load at."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    centre_lat = _lat_field(_("centre latitude"))
    centre_lng = _lat_field(_("centre longitude"))
    hub = models.ForeignKey("inventory.Location", verbose_name=_("hub"), null=True, blank=True,
                            on_delete=models.PROTECT, related_name="+",
                            help_text=_("Where routes start and end; the centre if empty."))
    is_active = models.BooleanField(_("active"), default=True)
    # Bumped by every write to the zone's plan (dispatch or a dispatcher's
    # move): a dispatch run that planned on an older version re-plans.
    plan_version = models.PositiveIntegerField(_("plan version"), default=0, editable=False)
    planned_at = models.DateTimeField(_("planned at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("zone")
        verbose_name_plural = _("zones")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(centre_lat__gte=-90, centre_lat__lte=90,
                                               centre_lng__gte=-180, centre_lng__lte=180),
                                   name="zone_centre_valid"),
        ]

    def __str__(self) -> str:
        return self.name


class ZoneDistrict(models.Model):
    """A district belongs to exactly one zone (unique)."""

    zone = models.ForeignKey(Zone, verbose_name=_("zone"), on_delete=models.CASCADE,
                             related_name="districts")
    district = models.CharField(_("district"), max_length=50, unique=True)

    class Meta:
        verbose_name = _("zone district")
        verbose_name_plural = _("zone districts")
        ordering = ["district"]

    def __str__(self) -> str:
        return self.district


class PriorityClass(models.Model):
    """How an order priority (003 05 訂單分類管理) is dispatched: lower rank
    first when couriers are short, and the promise used when the order has no
    delivery window."""

    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices,
                                unique=True)
    rank = models.PositiveSmallIntegerField(_("rank"), help_text=_("Lower goes first."))
    promise_hours = models.PositiveSmallIntegerField(
        _("promise (hours)"), help_text=_("Delivery promise when the order has no window."))

    class Meta:
        verbose_name = _("priority class")
        verbose_name_plural = _("priority classes")
        ordering = ["rank"]
        constraints = [models.CheckConstraint(condition=Q(promise_hours__gt=0),
                                              name="priority_class_promise_gt_0")]

    def __str__(self) -> str:
        return self.get_priority_display()


# --- fleet ---------------------------------------------------------------------------


class Vehicle(models.Model):
    plate = models.CharField(_("plate"), max_length=20, unique=True)
    kind = models.CharField(_("type"), max_length=20, choices=VehicleKind.choices)
    capacity_volume_l = models.PositiveIntegerField(_("capacity (litres)"))
    capacity_weight_kg = models.PositiveIntegerField(_("capacity (kg)"))
    cold_chain = models.BooleanField(_("cold chain"), default=False)
    status = models.CharField(_("status"), max_length=20, choices=VehicleStatus.choices,
                              default=VehicleStatus.ACTIVE)
    odometer_km = models.PositiveIntegerField(_("odometer (km)"), default=0)
    maintenance_interval_days = models.PositiveSmallIntegerField(
        _("maintenance every (days)"), default=90)
    maintenance_interval_km = models.PositiveIntegerField(_("maintenance every (km)"),
                                                          default=3000)
    last_maintenance_on = models.DateField(_("last maintenance on"))
    last_maintenance_km = models.PositiveIntegerField(_("odometer at last maintenance"),
                                                      default=0)
    maintenance_due_on = models.DateField(_("maintenance due on"), editable=False)
    maintenance_due_km = models.PositiveIntegerField(_("maintenance due at (km)"),
                                                     editable=False)
    insurer = models.CharField(_("insurer"), max_length=100, blank=True)
    insurance_policy_no = models.CharField(_("insurance policy"), max_length=64)
    insurance_expires_on = models.DateField(_("insurance expires on"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("vehicle")
        verbose_name_plural = _("vehicles")
        ordering = ["plate"]
        constraints = [
            models.CheckConstraint(condition=Q(capacity_volume_l__gt=0, capacity_weight_kg__gt=0),
                                   name="vehicle_capacity_gt_0"),
            models.CheckConstraint(condition=Q(maintenance_due_km__gte=models.F(
                "last_maintenance_km")), name="vehicle_due_km_after_last"),
        ]

    def __str__(self) -> str:
        return f"{self.plate} ({self.get_kind_display()})"


class MaintenanceRecord(models.Model):
    vehicle = models.ForeignKey(Vehicle, verbose_name=_("vehicle"), on_delete=models.CASCADE,
                                related_name="maintenance_records")
    performed_on = models.DateField(_("performed on"))
    odometer_km = models.PositiveIntegerField(_("odometer (km)"))
    description = models.CharField(_("work done"), max_length=255)
    cost = MoneyField(_("cost"), default=0)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"),
                                    null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("maintenance record")
        verbose_name_plural = _("maintenance records")
        ordering = ["-performed_on", "-pk"]
        constraints = [models.CheckConstraint(condition=Q(cost__gte=0),
                                              name="maintenance_cost_gte_0")]

    def __str__(self) -> str:
        return f"{self.vehicle_id} {self.performed_on}"


class Courier(models.Model):
    """A courier's hiring record (000 配送團隊組建與培訓 1). A courier signs in
    to the courier app as the linked user."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name=_("login"), null=True,
                                blank=True, on_delete=models.PROTECT, related_name="courier")
    employee_no = models.CharField(_("employee number"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=50)
    phone = models.CharField(_("phone"), max_length=30)
    hired_on = models.DateField(_("hired on"))
    employment_type = models.CharField(_("employment"), max_length=20,
                                       choices=EmploymentType.choices,
                                       default=EmploymentType.FULL_TIME)
    licence_no = models.CharField(_("driving licence"), max_length=30, blank=True)
    licence_expires_on = models.DateField(_("licence expires on"), null=True, blank=True)
    hiring_notes = models.TextField(_("hiring notes"), blank=True,
                                    help_text=_("Interview, references, probation."))
    status = models.CharField(_("status"), max_length=20, choices=CourierStatus.choices,
                              default=CourierStatus.ONBOARDING)
    zones = models.ManyToManyField(Zone, verbose_name=_("zones"), related_name="couriers",
                                   blank=True)
    shift_start = models.TimeField(_("shift start"))
    shift_end = models.TimeField(_("shift end"))
    vehicle = models.OneToOneField(Vehicle, verbose_name=_("vehicle"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="courier")
    daily_capacity = models.PositiveSmallIntegerField(
        _("deliveries per day"), default=40, help_text=_("Used for capacity planning."))
    last_lat = models.DecimalField(_("last latitude"), max_digits=9, decimal_places=6,
                                   null=True, blank=True, editable=False)
    last_lng = models.DecimalField(_("last longitude"), max_digits=9, decimal_places=6,
                                   null=True, blank=True, editable=False)
    last_seen_at = models.DateTimeField(_("last seen at"), null=True, blank=True,
                                        editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("courier")
        verbose_name_plural = _("couriers")
        ordering = ["employee_no"]
        constraints = [
            models.CheckConstraint(condition=Q(shift_end__gt=models.F("shift_start")),
                                   name="courier_shift_end_after_start"),
            models.CheckConstraint(condition=Q(daily_capacity__gt=0),
                                   name="courier_daily_capacity_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.employee_no})"


class TrainingCourse(models.Model):
    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=CourseKind.choices)
    interval_months = models.PositiveSmallIntegerField(
        _("repeat every (months)"), null=True, blank=True,
        help_text=_("Periodic courses: when the next session is due after passing."))
    pass_score = models.PositiveSmallIntegerField(_("pass score"), default=60)
    description = models.TextField(_("content"), blank=True)

    class Meta:
        verbose_name = _("training course")
        verbose_name_plural = _("training courses")
        ordering = ["kind", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=CourseKind.ONBOARDING)
                | Q(interval_months__isnull=False, interval_months__gt=0),
                name="periodic_course_has_interval"),
        ]

    def __str__(self) -> str:
        return self.name


class TrainingRecord(models.Model):
    """One session of a course for a courier: scheduled (with a due date),
    then passed or failed. A passed periodic course schedules the next one."""

    courier = models.ForeignKey(Courier, verbose_name=_("courier"), on_delete=models.CASCADE,
                                related_name="training_records")
    course = models.ForeignKey(TrainingCourse, verbose_name=_("course"),
                               on_delete=models.PROTECT, related_name="records")
    status = models.CharField(_("status"), max_length=20, choices=TrainingStatus.choices,
                              default=TrainingStatus.SCHEDULED)
    due_on = models.DateField(_("due on"))
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True)
    trainer = models.CharField(_("trainer"), max_length=50, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("training record")
        verbose_name_plural = _("training records")
        ordering = ["courier", "due_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["courier", "course"],
                                    condition=Q(status=TrainingStatus.SCHEDULED),
                                    name="training_one_open_per_course"),
            models.CheckConstraint(condition=Q(status=TrainingStatus.SCHEDULED)
                                   | Q(completed_on__isnull=False),
                                   name="training_completed_has_date"),
        ]

    def __str__(self) -> str:
        return f"{self.courier_id} {self.course_id} {self.status}"


class Equipment(models.Model):
    """Insulated box, extinguisher, phone… (000 配送車輛與設備管理 2), carried
    on a vehicle or by a courier, checked periodically."""

    kind = models.CharField(_("kind"), max_length=20, choices=EquipmentKind.choices)
    serial_no = models.CharField(_("serial number"), max_length=50, unique=True)
    vehicle = models.ForeignKey(Vehicle, verbose_name=_("vehicle"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="equipment")
    courier = models.ForeignKey(Courier, verbose_name=_("courier"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="equipment")
    status = models.CharField(_("status"), max_length=20, choices=EquipmentStatus.choices,
                              default=EquipmentStatus.OK)
    check_interval_days = models.PositiveSmallIntegerField(_("check every (days)"),
                                                           default=30)
    last_checked_on = models.DateField(_("last checked on"), null=True, blank=True,
                                       editable=False)
    next_check_due_on = models.DateField(_("next check due on"))

    class Meta:
        verbose_name = _("equipment")
        verbose_name_plural = _("equipment")
        ordering = ["kind", "serial_no"]
        constraints = [models.CheckConstraint(condition=Q(check_interval_days__gt=0),
                                              name="equipment_check_interval_gt_0")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.serial_no}"


class EquipmentCheck(models.Model):
    equipment = models.ForeignKey(Equipment, verbose_name=_("equipment"),
                                  on_delete=models.CASCADE, related_name="checks")
    checked_on = models.DateField(_("checked on"))
    passed = models.BooleanField(_("passed"))
    notes = models.CharField(_("notes"), max_length=255, blank=True)
    checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("checked by"),
                                   null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("equipment check")
        verbose_name_plural = _("equipment checks")
        ordering = ["-checked_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.equipment_id} {self.checked_on}"


class FleetEvent(models.Model):
    """Status changes of couriers, vehicles and equipment: who, when, from, to, why."""

    courier = models.ForeignKey(Courier, verbose_name=_("courier"), null=True, blank=True,
                                on_delete=models.CASCADE, related_name="events")
    vehicle = models.ForeignKey(Vehicle, verbose_name=_("vehicle"), null=True, blank=True,
                                on_delete=models.CASCADE, related_name="events")
    equipment = models.ForeignKey(Equipment, verbose_name=_("equipment"), null=True,
                                  blank=True, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=40)
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True,
                              blank=True, on_delete=models.PROTECT, related_name="+")
    actor_label = models.CharField(_("by"), max_length=150, blank=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("fleet event")
        verbose_name_plural = _("fleet events")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.kind


class FleetAlert(models.Model):
    """An open problem for the delivery department (training overdue,
    maintenance due, insurance expiring, equipment). One open alert per key;
    the alert job opens and resolves them."""

    kind = models.CharField(_("kind"), max_length=30, choices=AlertKind.choices)
    key = models.CharField(_("key"), max_length=100)
    courier = models.ForeignKey(Courier, verbose_name=_("courier"), null=True, blank=True,
                                on_delete=models.CASCADE, related_name="alerts")
    vehicle = models.ForeignKey(Vehicle, verbose_name=_("vehicle"), null=True, blank=True,
                                on_delete=models.CASCADE, related_name="alerts")
    equipment = models.ForeignKey(Equipment, verbose_name=_("equipment"), null=True,
                                  blank=True, on_delete=models.CASCADE, related_name="alerts")
    carrier = models.ForeignKey("Carrier", verbose_name=_("carrier"), null=True, blank=True,
                                on_delete=models.CASCADE, related_name="alerts")
    message = models.CharField(_("message"), max_length=255)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("fleet alert")
        verbose_name_plural = _("fleet alerts")
        ordering = ["-opened_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["key"],
                                               condition=Q(resolved_at__isnull=True),
                                               name="fleet_alert_one_open_per_key")]

    def __str__(self) -> str:
        return self.message


# --- deliveries ----------------------------------------------------------------------


class Delivery(models.Model):
    """One same-city delivery of an order by a courier: a stop on the
    courier's route. An order has at most one active delivery (the partial
    unique index below): the last line of defence against double dispatch."""

    order = models.ForeignKey("sales.Order", verbose_name=_("order"), on_delete=models.PROTECT,
                              related_name="deliveries")
    zone = models.ForeignKey(Zone, verbose_name=_("zone"), on_delete=models.PROTECT,
                             related_name="deliveries")
    courier = models.ForeignKey(Courier, verbose_name=_("courier"), on_delete=models.PROTECT,
                                related_name="deliveries")
    vehicle = models.ForeignKey(Vehicle, verbose_name=_("vehicle"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="deliveries")
    status = models.CharField(_("status"), max_length=20, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.ASSIGNED, db_index=True)
    sequence = models.PositiveIntegerField(_("stop number"), default=0)
    eta = models.DateTimeField(_("ETA"), null=True, blank=True)
    promised_start = models.DateTimeField(_("promised from"), null=True, blank=True)
    promised_end = models.DateTimeField(_("promised by"))
    weight_grams = models.PositiveIntegerField(_("weight (g)"))
    volume_l = models.PositiveIntegerField(_("volume (litres)"))
    items = models.PositiveIntegerField(_("items"))
    handover_code = models.CharField(_("hand-over code"), max_length=6)
    handover_attempts = models.PositiveSmallIntegerField(_("wrong codes entered"), default=0)
    assigned_at = models.DateTimeField(_("assigned at"))
    picked_up_at = models.DateTimeField(_("picked up at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True,
                                     help_text=_("Delivered, failed, refused or cancelled."))
    failure_reason = models.CharField(_("failure reason"), max_length=30,
                                      choices=FailureReason.choices, blank=True)
    failure_note = models.CharField(_("failure note"), max_length=255, blank=True)
    rating = models.PositiveSmallIntegerField(_("customer rating"), null=True, blank=True)
    rating_comment = models.CharField(_("rating comment"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["courier", "sequence", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["order"],
                                    condition=Q(status__in=ACTIVE_DELIVERY_STATUSES),
                                    name="delivery_one_active_per_order"),
            models.CheckConstraint(condition=Q(rating__isnull=True)
                                   | Q(rating__gte=1, rating__lte=5),
                                   name="delivery_rating_1_to_5"),
            models.CheckConstraint(condition=~Q(status=DeliveryStatus.DELIVERED)
                                   | Q(delivered_at__isnull=False, picked_up_at__isnull=False),
                                   name="delivery_delivered_has_times"),
            models.CheckConstraint(condition=Q(items__gt=0), name="delivery_items_gt_0"),
        ]
        indexes = [
            models.Index(fields=["zone", "status"]),
            models.Index(fields=["courier", "status", "sequence"]),
            models.Index(fields=["delivered_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} → {self.courier_id} #{self.sequence}"

    @property
    def is_late(self) -> bool:
        return bool(self.eta and self.promised_end and self.eta > self.promised_end)

    @property
    def weight_kg(self) -> float:
        return round(self.weight_grams / 1000, 1)


class DeliveryEvent(models.Model):
    """A delivery's timeline: assignment, pickup, courier location and status
    posts, hand-over (also refused attempts), failure. Feeds order tracking."""

    delivery = models.ForeignKey(Delivery, verbose_name=_("delivery"), on_delete=models.CASCADE,
                                 related_name="events")
    kind = models.CharField(_("kind"), max_length=30, choices=DeliveryEventKind.choices)
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True,
                              blank=True, on_delete=models.PROTECT, related_name="+")
    actor_label = models.CharField(_("by"), max_length=150, blank=True)
    lat = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True,
                              blank=True)
    lng = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True,
                              blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("delivery event")
        verbose_name_plural = _("delivery events")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.kind}"


class DeliveryIssue(models.Model):
    """Damage or a complaint attributed to a delivery (courier KPIs)."""

    delivery = models.ForeignKey(Delivery, verbose_name=_("delivery"), on_delete=models.CASCADE,
                                 related_name="issues")
    kind = models.CharField(_("kind"), max_length=20, choices=IssueKind.choices)
    note = models.CharField(_("note"), max_length=255, blank=True)
    actor_label = models.CharField(_("by"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("delivery issue")
        verbose_name_plural = _("delivery issues")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.kind}"


class CourierPosition(models.Model):
    """Location posted by the courier app (000 配送質量監控 1 實時跟蹤)."""

    courier = models.ForeignKey(Courier, verbose_name=_("courier"), on_delete=models.CASCADE,
                                related_name="positions")
    lat = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6)
    lng = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6)
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("courier position")
        verbose_name_plural = _("courier positions")
        ordering = ["-recorded_at", "-pk"]
        indexes = [models.Index(fields=["courier", "-recorded_at"])]

    def __str__(self) -> str:
        return f"{self.courier_id} {self.lat},{self.lng}"


class DispatchRun(models.Model):
    """One dispatch of one zone: when, outcome, counts, plan quality."""

    zone = models.ForeignKey(Zone, verbose_name=_("zone"), on_delete=models.CASCADE,
                             related_name="dispatch_runs")
    status = models.CharField(_("status"), max_length=20, choices=DispatchRunStatus.choices,
                              default=DispatchRunStatus.RUNNING)
    started_at = models.DateTimeField(_("started at"), auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    plan_version = models.PositiveIntegerField(_("plan version"), null=True, blank=True)
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    distance_m = models.PositiveIntegerField(_("distance (m)"), null=True, blank=True)
    lateness_s = models.PositiveIntegerField(_("lateness (s)"), null=True, blank=True)
    solver_seconds = models.FloatField(_("solver time (s)"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("dispatch run")
        verbose_name_plural = _("dispatch runs")
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.zone_id} {self.started_at:%Y-%m-%d %H:%M}"


# --- express carriers ----------------------------------------------------------------


class Carrier(models.Model):
    """An express carrier and its qualifications (002 四(二))."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    licence_no = models.CharField(_("express business licence"), max_length=64)
    licence_expires_on = models.DateField(_("licence expires on"))
    cold_chain = models.BooleanField(_("cold chain qualified"), default=False)
    default_promise_hours = models.PositiveSmallIntegerField(_("time promise (hours)"),
                                                             default=72)
    contact = models.CharField(_("contact"), max_length=100, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("express carrier")
        verbose_name_plural = _("express carriers")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class CarrierCoverage(models.Model):
    """Where a carrier delivers: a province, or one city of it."""

    carrier = models.ForeignKey(Carrier, verbose_name=_("carrier"), on_delete=models.CASCADE,
                                related_name="coverage")
    province = models.CharField(_("province"), max_length=50)
    city = models.CharField(_("city"), max_length=50, blank=True,
                            help_text=_("Empty: the whole province."))
    promise_hours = models.PositiveSmallIntegerField(_("time promise (hours)"), null=True,
                                                     blank=True)

    class Meta:
        verbose_name = _("carrier coverage")
        verbose_name_plural = _("carrier coverage")
        ordering = ["carrier", "province", "city"]
        constraints = [models.UniqueConstraint(fields=["carrier", "province", "city"],
                                               name="carrier_coverage_unique")]

    def __str__(self) -> str:
        return f"{self.carrier_id} {self.province}{self.city}"


class CarrierRate(models.Model):
    """Price: first kilogram plus each further (started) kilogram; a rate
    without province applies where no provincial rate exists."""

    carrier = models.ForeignKey(Carrier, verbose_name=_("carrier"), on_delete=models.CASCADE,
                                related_name="rates")
    province = models.CharField(_("province"), max_length=50, blank=True)
    first_kg = MoneyField(_("first kg"))
    extra_kg = MoneyField(_("each further kg"))

    class Meta:
        verbose_name = _("carrier rate")
        verbose_name_plural = _("carrier rates")
        ordering = ["carrier", "province"]
        constraints = [
            models.UniqueConstraint(fields=["carrier", "province"], name="carrier_rate_unique"),
            models.CheckConstraint(condition=Q(first_kg__gte=0, extra_kg__gte=0),
                                   name="carrier_rate_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.carrier_id} {self.province or '*'}"


class Shipment(models.Model):
    order = models.ForeignKey("sales.Order", verbose_name=_("order"), on_delete=models.PROTECT,
                              related_name="shipments")
    carrier = models.ForeignKey(Carrier, verbose_name=_("carrier"), on_delete=models.PROTECT,
                                related_name="shipments")
    waybill_no = models.CharField(_("waybill number"), max_length=40)
    status = models.CharField(_("status"), max_length=20, choices=ShipmentStatus.choices,
                              default=ShipmentStatus.CREATED, db_index=True)
    weight_grams = models.PositiveIntegerField(_("weight (g)"))
    price = MoneyField(_("price"))
    cold_chain = models.BooleanField(_("cold chain"), default=False)
    shipped_at = models.DateTimeField(_("shipped at"))
    promised_by = models.DateTimeField(_("promised by"))
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    last_event_at = models.DateTimeField(_("last update"), db_index=True)
    stalled_at = models.DateTimeField(_("flagged as stalled at"), null=True, blank=True,
                                      help_text=_("Cleared by the next tracking event."))
    damaged = models.BooleanField(_("damaged"), default=False)
    complaint = models.BooleanField(_("complaint"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        ordering = ["-shipped_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["carrier", "waybill_no"],
                                    name="shipment_waybill_unique"),
            models.CheckConstraint(condition=Q(price__gte=0), name="shipment_price_gte_0"),
        ]

    def __str__(self) -> str:
        return self.waybill_no


class ShipmentEvent(models.Model):
    """A carrier tracking event; the same (kind, time) twice is one event."""

    shipment = models.ForeignKey(Shipment, verbose_name=_("shipment"), on_delete=models.CASCADE,
                                 related_name="events")
    kind = models.CharField(_("kind"), max_length=20, choices=ShipmentEventKind.choices)
    occurred_at = models.DateTimeField(_("occurred at"))
    location = models.CharField(pgettext_lazy("place of a tracking event", "location"),
                                max_length=100, blank=True)
    description = models.CharField(_("description"), max_length=255, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=EventSource.choices)
    created_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("shipment event")
        verbose_name_plural = _("shipment events")
        ordering = ["occurred_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["shipment", "kind", "occurred_at"],
                                               name="shipment_event_unique")]

    def __str__(self) -> str:
        return f"{self.shipment_id} {self.kind}"


# --- customers, planning -------------------------------------------------------------


class CustomerNotification(models.Model):
    """Outbox of messages to customers (hand-over code, failed attempt,
    delayed shipment), written in the transaction that causes them."""

    kind = models.CharField(_("kind"), max_length=30, choices=NotificationKind.choices)
    phone = models.CharField(_("phone"), max_length=30)
    message = models.CharField(_("message"), max_length=500)
    order = models.ForeignKey("sales.Order", verbose_name=_("order"), on_delete=models.CASCADE,
                              related_name="+")
    delivery = models.ForeignKey(Delivery, verbose_name=_("delivery"), null=True, blank=True,
                                 on_delete=models.CASCADE, related_name="notifications")
    shipment = models.ForeignKey(Shipment, verbose_name=_("shipment"), null=True, blank=True,
                                 on_delete=models.CASCADE, related_name="notifications")
    status = models.CharField(_("status"), max_length=10, choices=NotificationStatus.choices,
                              default=NotificationStatus.PENDING)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("customer notification")
        verbose_name_plural = _("customer notifications")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind} → {self.phone}"


class DeliveryForecast(models.Model):
    """Expected same-city orders on a day (e.g. a campaign's forecast,
    000 營銷活動執行 2), for one zone or the whole city."""

    day = models.DateField(_("day"))
    zone = models.ForeignKey(Zone, verbose_name=_("zone"), null=True, blank=True,
                             on_delete=models.CASCADE, related_name="forecasts",
                             help_text=_("Empty: the whole city."))
    expected_orders = models.PositiveIntegerField(_("expected orders"))
    source = models.CharField(_("source"), max_length=10, choices=ForecastSource.choices,
                              default=ForecastSource.MANUAL)
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("delivery forecast")
        verbose_name_plural = _("delivery forecasts")
        ordering = ["day", "zone"]
        constraints = [
            models.UniqueConstraint(fields=["day", "zone"], name="forecast_day_zone_unique"),
            models.UniqueConstraint(fields=["day"], condition=Q(zone__isnull=True),
                                    name="forecast_day_city_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.expected_orders}"
