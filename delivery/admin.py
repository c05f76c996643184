"""Staff screens of the delivery department. Reference data (zones, courses,
carriers, forecasts) is edited in forms; every state change (courier status,
training results, maintenance, insurance, equipment checks, deliveries,
shipments) is an action that calls its service."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action, display
from unfold.forms import BaseDialogForm
from unfold.widgets import (
    UnfoldAdminDecimalFieldWidget,
    UnfoldAdminFileFieldWidget,
    UnfoldAdminIntegerFieldWidget,
    UnfoldAdminSingleDateWidget,
    UnfoldAdminTextInputWidget,
)

from core.errors import DomainError
from delivery import selectors
from delivery.carriers import (
    carrier_records,
    shipment_complaint_record,
    shipment_events_import,
)
from delivery.enums import (
    CourierStatus,
    DeliveryStatus,
    IssueKind,
    TrainingStatus,
    VehicleStatus,
)
from delivery.models import (
    Carrier,
    CarrierCoverage,
    CarrierRate,
    Courier,
    CustomerNotification,
    Delivery,
    DeliveryEvent,
    DeliveryForecast,
    DispatchRun,
    Equipment,
    EquipmentCheck,
    FleetAlert,
    MaintenanceRecord,
    PriorityClass,
    Shipment,
    ShipmentEvent,
    TrainingCourse,
    TrainingRecord,
    Vehicle,
    Zone,
    ZoneDistrict,
)
from delivery.services import (
    courier_hire,
    courier_status_change,
    delivery_handover_reset,
    delivery_issue_record,
    equipment_check_record,
    training_record_complete,
    vehicle_insurance_renew,
    vehicle_maintenance_record,
    vehicle_save,
    vehicle_status_change,
)


class ReadOnlyInline(TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def run_each(model_admin, request, objects, call, done_message) -> int:
    """Call a service for each object; report refusals and the count done."""
    done = 0
    for obj in objects:
        try:
            call(obj)
        except DomainError as exc:
            model_admin.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
        else:
            done += 1
    if done:
        model_admin.message_user(request, done_message % {"n": done}, messages.SUCCESS)
    return done


def _back(model_admin, object_id):
    from django.http import HttpResponse

    url = reverse(f"admin:delivery_{model_admin.model._meta.model_name}_change",
                  args=[object_id])
    return HttpResponse(headers={"HX-Redirect": url})


# --- zones ---------------------------------------------------------------------------------


class ZoneDistrictInline(TabularInline):
    model = ZoneDistrict
    extra = 1
    fields = ("district",)


@admin.register(Zone)
class ZoneAdmin(ModelAdmin):
    list_display = ("code", "name", "district_list", "hub", "courier_count", "plan_version",
                    "planned_at", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "name", "districts__district")
    inlines = [ZoneDistrictInline]
    readonly_fields = ("plan_version", "planned_at")
    actions = ["dispatch_now"]

    def get_queryset(self, request):
        return (super().get_queryset(request).select_related("hub")
                .prefetch_related("districts").annotate(courier_total=Count("couriers")))

    @display(description=_("districts"))
    def district_list(self, obj):
        return "、".join(d.district for d in obj.districts.all())

    @display(description=_("couriers"), ordering="courier_total")
    def courier_count(self, obj):
        return obj.courier_total

    def has_dispatch_permission(self, request, obj=None):
        return request.user.has_perm("delivery.change_delivery")

    @action(description=_("Dispatch the selected zones now"), permissions=["dispatch"])
    def dispatch_now(self, request, queryset):
        from delivery.tasks import dispatch_zone_task

        zones = list(queryset.order_by("pk"))
        for zone in zones:
            dispatch_zone_task.delay(zone.pk)
        self.message_user(request, gettext("Dispatch queued for %(n)d zones.") % {
            "n": len(zones)}, messages.SUCCESS)


@admin.register(PriorityClass)
class PriorityClassAdmin(ModelAdmin):
    list_display = ("priority", "rank", "promise_hours")


# --- couriers and training -------------------------------------------------------------------


class TrainingRecordInline(ReadOnlyInline):
    model = TrainingRecord
    fields = ("course", "status", "due_on", "completed_on", "score", "trainer")
    readonly_fields = fields


class CourierEquipmentInline(ReadOnlyInline):
    model = Equipment
    fk_name = "courier"
    fields = ("kind", "serial_no", "status", "next_check_due_on")
    readonly_fields = fields


@admin.register(Courier)
class CourierAdmin(ModelAdmin):
    list_display = ("employee_no", "name", "status", "zone_list", "vehicle", "shift",
                    "trained", "dispatchable", "hired_on")
    list_filter = ("status", "employment_type", "zones")
    search_fields = ("employee_no", "name", "phone", "vehicle__plate")
    list_select_related = ("vehicle",)
    filter_horizontal = ("zones",)
    autocomplete_fields = ("user", "vehicle")
    readonly_fields = ("status", "last_lat", "last_lng", "last_seen_at", "created_at")
    fieldsets = (
        (None, {"fields": ("employee_no", "name", "phone", "user", "status")}),
        (_("Hiring record"), {"fields": ("hired_on", "employment_type", "licence_no",
                                         "licence_expires_on", "hiring_notes")}),
        (_("Work"), {"fields": ("zones", "shift_start", "shift_end", "vehicle",
                                "daily_capacity")}),
        (_("Last position"), {"fields": ("last_lat", "last_lng", "last_seen_at")}),
    )
    inlines = [TrainingRecordInline, CourierEquipmentInline]
    actions = ["activate_selected", "leave_selected", "suspend_selected", "left_selected"]

    def get_queryset(self, request):
        trained = selectors.couriers_trained().filter(pk=OuterRef("pk"))
        fit = selectors.couriers_dispatchable().filter(pk=OuterRef("pk"))
        return (super().get_queryset(request).prefetch_related("zones")
                .annotate(is_trained=Exists(trained), is_dispatchable=Exists(fit)))

    @display(description=_("zones"))
    def zone_list(self, obj):
        return "、".join(z.name for z in obj.zones.all())

    @display(description=_("shift"))
    def shift(self, obj):
        return f"{obj.shift_start:%H:%M}–{obj.shift_end:%H:%M}"

    @display(description=_("trained"), boolean=True)
    def trained(self, obj):
        return getattr(obj, "is_trained", None)

    @display(description=_("dispatchable now"), boolean=True)
    def dispatchable(self, obj):
        return getattr(obj, "is_dispatchable", None)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        hired = courier_hire(
            employee_no=obj.employee_no, name=obj.name, phone=obj.phone, hired_on=obj.hired_on,
            shift_start=obj.shift_start, shift_end=obj.shift_end, actor=request.user,
            employment_type=obj.employment_type, licence_no=obj.licence_no,
            licence_expires_on=obj.licence_expires_on, user=obj.user, vehicle=obj.vehicle,
            daily_capacity=obj.daily_capacity, hiring_notes=obj.hiring_notes)
        # The form's instance becomes the hired row (zones are set after, by save_related).
        obj.pk, obj.status, obj.created_at = hired.pk, hired.status, hired.created_at
        obj._state.adding, obj._state.db = False, hired._state.db

    def has_act_permission(self, request, obj=None):
        return request.user.has_perm("delivery.change_courier")

    def _status(self, request, queryset, to_status):
        run_each(self, request, queryset.order_by("pk"),
                 lambda c: courier_status_change(courier=c, to_status=to_status,
                                                 actor=request.user),
                 gettext("Couriers updated: %(n)d."))

    @action(description=_("Activate (on-boarding passed)"), permissions=["act"])
    def activate_selected(self, request, queryset):
        self._status(request, queryset, CourierStatus.ACTIVE)

    @action(description=_("Send on leave"), permissions=["act"])
    def leave_selected(self, request, queryset):
        self._status(request, queryset, CourierStatus.ON_LEAVE)

    @action(description=_("Suspend"), permissions=["act"])
    def suspend_selected(self, request, queryset):
        self._status(request, queryset, CourierStatus.SUSPENDED)

    @action(description=_("Record leaving the company"), permissions=["act"])
    def left_selected(self, request, queryset):
        self._status(request, queryset, CourierStatus.LEFT)


@admin.register(TrainingCourse)
class TrainingCourseAdmin(ModelAdmin):
    list_display = ("code", "name", "kind", "interval_months", "pass_score")
    list_filter = ("kind",)
    search_fields = ("code", "name")


class TrainingOverdueFilter(admin.SimpleListFilter):
    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return (("yes", _("Yes")),)

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(status=TrainingStatus.SCHEDULED,
                                   due_on__lt=timezone.localdate())
        return queryset


class TrainingResultForm(BaseDialogForm):
    score = forms.IntegerField(label=_("Score"), min_value=0, max_value=100, required=False,
                               widget=UnfoldAdminIntegerFieldWidget)
    trainer = forms.CharField(label=_("Trainer"), max_length=50, required=False,
                              widget=UnfoldAdminTextInputWidget)


@admin.register(TrainingRecord)
class TrainingRecordAdmin(ModelAdmin):
    list_display = ("courier", "course", "status", "due_on", "completed_on", "score")
    list_filter = ("status", "course", TrainingOverdueFilter)
    search_fields = ("courier__name", "courier__employee_no")
    list_select_related = ("courier", "course")
    autocomplete_fields = ("courier",)
    readonly_fields = ("status", "completed_on", "score")
    actions = ["pass_selected", "fail_selected"]
    actions_detail = ["pass_record"]

    def has_act_permission(self, request, obj=None):
        return request.user.has_perm("delivery.change_trainingrecord")

    @action(description=_("Record as passed"), permissions=["act"])
    def pass_selected(self, request, queryset):
        run_each(self, request, queryset.order_by("pk"),
                 lambda r: training_record_complete(record=r, passed=True, actor=request.user),
                 gettext("Training records updated: %(n)d."))

    @action(description=_("Record as failed"), permissions=["act"])
    def fail_selected(self, request, queryset):
        run_each(self, request, queryset.order_by("pk"),
                 lambda r: training_record_complete(record=r, passed=False, actor=request.user),
                 gettext("Training records updated: %(n)d."))

    @action(description=_("Record result"), url_path="result", permissions=["act"],
            dialog={"title": _("Record the result"), "description": _("Passed, with score."),
                    "form_class": TrainingResultForm, "form_submit_text": _("Passed")})
    def pass_record(self, request, form, object_id):
        record = self.get_object(request, object_id)
        if record is not None:
            run_each(self, request, [record],
                     lambda r: training_record_complete(
                         record=r, passed=True, actor=request.user,
                         score=form.cleaned_data["score"],
                         trainer=form.cleaned_data["trainer"]),
                     gettext("Training records updated: %(n)d."))
        return _back(self, object_id)


# --- vehicles and equipment ------------------------------------------------------------------


class MaintenanceInline(ReadOnlyInline):
    model = MaintenanceRecord
    fields = ("performed_on", "odometer_km", "description", "cost", "recorded_by")
    readonly_fields = fields


class VehicleEquipmentInline(ReadOnlyInline):
    model = Equipment
    fk_name = "vehicle"
    fields = ("kind", "serial_no", "status", "last_checked_on", "next_check_due_on")
    readonly_fields = fields


class MaintenanceForm(BaseDialogForm):
    performed_on = forms.DateField(label=_("Performed on"), widget=UnfoldAdminSingleDateWidget)
    odometer_km = forms.IntegerField(label=_("Odometer (km)"), min_value=0,
                                     widget=UnfoldAdminIntegerFieldWidget)
    description = forms.CharField(label=_("Work done"), max_length=255,
                                  widget=UnfoldAdminTextInputWidget)
    cost = forms.DecimalField(label=_("Cost"), min_value=0, max_digits=12, decimal_places=2,
                              required=False, widget=UnfoldAdminDecimalFieldWidget)


class InsuranceForm(BaseDialogForm):
    policy_no = forms.CharField(label=_("Policy number"), max_length=64,
                                widget=UnfoldAdminTextInputWidget)
    insurer = forms.CharField(label=_("Insurer"), max_length=100, required=False,
                              widget=UnfoldAdminTextInputWidget)
    expires_on = forms.DateField(label=_("Expires on"), widget=UnfoldAdminSingleDateWidget)


class UsableFilter(admin.SimpleListFilter):
    title = _("usable for dispatch")
    parameter_name = "usable"

    def lookups(self, request, model_admin):
        return (("yes", _("Yes")), ("no", _("No")))

    def queryset(self, request, queryset):
        usable = selectors.vehicles_usable().values("pk")
        if self.value() == "yes":
            return queryset.filter(pk__in=usable)
        if self.value() == "no":
            return queryset.exclude(pk__in=usable)
        return queryset


@admin.register(Vehicle)
class VehicleAdmin(ModelAdmin):
    list_display = ("plate", "kind", "capacity_weight_kg", "capacity_volume_l", "status",
                    "odometer_km", "maintenance_due_on", "maintenance_due_km",
                    "insurance_expires_on", "usable")
    list_filter = ("kind", "status", "cold_chain", UsableFilter)
    search_fields = ("plate", "insurance_policy_no")
    readonly_fields = ("status", "maintenance_due_on", "maintenance_due_km")
    fieldsets = (
        (None, {"fields": ("plate", "kind", "status", "cold_chain")}),
        (_("Capacity"), {"fields": ("capacity_weight_kg", "capacity_volume_l")}),
        (_("Maintenance"), {"fields": ("odometer_km", "maintenance_interval_days",
                                       "maintenance_interval_km", "last_maintenance_on",
                                       "last_maintenance_km", "maintenance_due_on",
                                       "maintenance_due_km")}),
        (_("Insurance"), {"fields": ("insurer", "insurance_policy_no",
                                     "insurance_expires_on")}),
    )
    inlines = [MaintenanceInline, VehicleEquipmentInline]
    actions = ["to_maintenance", "back_in_service", "retire"]
    actions_detail = ["record_maintenance", "renew_insurance"]

    def get_queryset(self, request):
        usable = selectors.vehicles_usable().filter(pk=OuterRef("pk"))
        return super().get_queryset(request).annotate(is_usable=Exists(usable))

    @display(description=_("usable"), boolean=True)
    def usable(self, obj):
        return getattr(obj, "is_usable", None)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:  # changed through the maintenance and insurance actions
            fields += ["odometer_km", "last_maintenance_on", "last_maintenance_km",
                       "insurance_policy_no", "insurance_expires_on", "insurer"]
        return fields

    def save_model(self, request, obj, form, change):
        vehicle_save(vehicle=obj, actor=request.user, created=not change)

    def has_act_permission(self, request, obj=None):
        return request.user.has_perm("delivery.change_vehicle")

    def _status(self, request, queryset, to_status):
        run_each(self, request, queryset.order_by("pk"),
                 lambda v: vehicle_status_change(vehicle=v, to_status=to_status,
                                                 actor=request.user),
                 gettext("Vehicles updated: %(n)d."))

    @action(description=_("Take into maintenance"), permissions=["act"])
    def to_maintenance(self, request, queryset):
        self._status(request, queryset, VehicleStatus.IN_MAINTENANCE)

    @action(description=_("Back in service"), permissions=["act"])
    def back_in_service(self, request, queryset):
        self._status(request, queryset, VehicleStatus.ACTIVE)

    @action(description=_("Retire"), permissions=["act"])
    def retire(self, request, queryset):
        self._status(request, queryset, VehicleStatus.RETIRED)

    @action(description=_("Record maintenance"), url_path="maintenance", permissions=["act"],
            dialog={"title": _("Record maintenance"),
                    "description": _("Resets the maintenance schedule from this date and "
                                     "reading."),
                    "form_class": MaintenanceForm, "form_submit_text": _("Record")})
    def record_maintenance(self, request, form, object_id):
        vehicle = self.get_object(request, object_id)
        if vehicle is not None:
            data = form.cleaned_data
            run_each(self, request, [vehicle],
                     lambda v: vehicle_maintenance_record(
                         vehicle=v, performed_on=data["performed_on"],
                         odometer_km=data["odometer_km"], description=data["description"],
                         cost=data["cost"] or 0, actor=request.user),
                     gettext("Maintenance recorded: %(n)d."))
        return _back(self, object_id)

    @action(description=_("Renew insurance"), url_path="insurance", permissions=["act"],
            dialog={"title": _("Renew insurance"), "description": _("The new policy."),
                    "form_class": InsuranceForm, "form_submit_text": _("Record")})
    def renew_insurance(self, request, form, object_id):
        vehicle = self.get_object(request, object_id)
        if vehicle is not None:
            data = form.cleaned_data
            run_each(self, request, [vehicle],
                     lambda v: vehicle_insurance_renew(
                         vehicle=v, policy_no=data["policy_no"], insurer=data["insurer"],
                         expires_on=data["expires_on"], actor=request.user),
                     gettext("Insurance renewed: %(n)d."))
        return _back(self, object_id)


class EquipmentCheckInline(ReadOnlyInline):
    model = EquipmentCheck
    fields = ("checked_on", "passed", "notes", "checked_by")
    readonly_fields = fields


@admin.register(Equipment)
class EquipmentAdmin(ModelAdmin):
    list_display = ("serial_no", "kind", "vehicle", "courier", "status", "last_checked_on",
                    "next_check_due_on")
    list_filter = ("kind", "status")
    search_fields = ("serial_no", "vehicle__plate", "courier__name")
    list_select_related = ("vehicle", "courier")
    autocomplete_fields = ("vehicle", "courier")
    readonly_fields = ("status", "last_checked_on")
    inlines = [EquipmentCheckInline]
    actions = ["check_passed", "check_failed"]

    def has_act_permission(self, request, obj=None):
        return request.user.has_perm("delivery.add_equipmentcheck")

    @action(description=_("Checked: passed"), permissions=["act"])
    def check_passed(self, request, queryset):
        run_each(self, request, queryset.order_by("pk"),
                 lambda e: equipment_check_record(equipment=e, passed=True, actor=request.user),
                 gettext("Checks recorded: %(n)d."))

    @action(description=_("Checked: failed (takes its vehicle out of dispatch)"),
            permissions=["act"])
    def check_failed(self, request, queryset):
        run_each(self, request, queryset.order_by("pk"),
                 lambda e: equipment_check_record(equipment=e, passed=False, actor=request.user),
                 gettext("Checks recorded: %(n)d."))


@admin.register(FleetAlert)
class FleetAlertAdmin(ReadOnlyAdmin):
    list_display = ("kind", "message", "due_on", "opened_at", "resolved_at")
    list_filter = ("kind", ("resolved_at", admin.EmptyFieldListFilter))
    search_fields = ("message",)


# --- deliveries --------------------------------------------------------------------------------


class DeliveryEventInline(ReadOnlyInline):
    model = DeliveryEvent
    fields = ("created_at", "kind", "from_status", "to_status", "actor_label", "note")
    readonly_fields = fields
    ordering = ("created_at", "pk")


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ("order", "zone", "courier", "status", "sequence", "eta", "promised_end",
                    "late", "rating", "assigned_at")
    list_filter = ("status", "zone", "failure_reason")
    search_fields = ("order__number", "courier__name", "courier__employee_no")
    list_select_related = ("order", "zone", "courier")
    date_hierarchy = "assigned_at"
    exclude = ("handover_code",)
    inlines = [DeliveryEventInline]
    actions = ["new_handover_code", "record_damage", "record_complaint"]

    @display(description=_("late"), boolean=True)
    def late(self, obj):
        return obj.is_late

    def has_act_permission(self, request, obj=None):
        return request.user.has_perm("delivery.change_delivery")

    @action(description=_("Issue a new hand-over code (after a lock-out)"), permissions=["act"])
    def new_handover_code(self, request, queryset):
        run_each(self, request, queryset.filter(status__in=(DeliveryStatus.ASSIGNED,
                                                            DeliveryStatus.PICKED_UP))
                 .order_by("pk"),
                 lambda d: delivery_handover_reset(delivery=d, actor=request.user),
                 gettext("New codes sent: %(n)d."))

    @action(description=_("Record damage"), permissions=["act"])
    def record_damage(self, request, queryset):
        run_each(self, request, queryset.order_by("pk"),
                 lambda d: delivery_issue_record(delivery=d, kind=IssueKind.DAMAGE,
                                                 actor=request.user),
                 gettext("Issues recorded: %(n)d."))

    @action(description=_("Record a complaint"), permissions=["act"])
    def record_complaint(self, request, queryset):
        run_each(self, request, queryset.order_by("pk"),
                 lambda d: delivery_issue_record(delivery=d, kind=IssueKind.COMPLAINT,
                                                 actor=request.user),
                 gettext("Issues recorded: %(n)d."))


@admin.register(DispatchRun)
class DispatchRunAdmin(ReadOnlyAdmin):
    list_display = ("zone", "status", "started_at", "finished_at", "counts", "distance_m",
                    "lateness_s", "solver_seconds", "note")
    list_filter = ("status", "zone")
    list_select_related = ("zone",)


@admin.register(CustomerNotification)
class CustomerNotificationAdmin(ReadOnlyAdmin):
    list_display = ("kind", "phone", "order", "status", "created_at", "sent_at")
    list_filter = ("kind", "status")
    search_fields = ("phone", "order__number")
    list_select_related = ("order",)
    exclude = ("message",)  # may hold a hand-over code


@admin.register(DeliveryForecast)
class DeliveryForecastAdmin(ModelAdmin):
    list_display = ("day", "zone", "expected_orders", "source", "note")
    list_filter = ("source", "zone")
    date_hierarchy = "day"


# --- carriers and shipments ----------------------------------------------------------------------


class CoverageInline(TabularInline):
    model = CarrierCoverage
    extra = 0
    fields = ("province", "city", "promise_hours")


class RateInline(TabularInline):
    model = CarrierRate
    extra = 0
    fields = ("province", "first_kg", "extra_kg")


@admin.register(Carrier)
class CarrierAdmin(ModelAdmin):
    list_display = ("code", "name", "licence_no", "licence_expires_on", "cold_chain",
                    "default_promise_hours", "damage_rate", "loss_rate", "complaint_rate",
                    "is_active")
    list_filter = ("cold_chain", "is_active")
    search_fields = ("code", "name", "licence_no")
    inlines = [CoverageInline, RateInline]

    def _record(self, obj):
        # A handful of carriers: one small aggregate each, no state kept on
        # the (shared) admin instance.
        return carrier_records(carrier_ids=[obj.pk]).get(obj.pk)

    @display(description=_("damage rate"))
    def damage_rate(self, obj):
        record = self._record(obj)
        return f"{record.damage_rate * 100:.2f}%" if record else "–"

    @display(description=_("loss rate"))
    def loss_rate(self, obj):
        record = self._record(obj)
        return f"{record.loss_rate * 100:.2f}%" if record else "–"

    @display(description=_("complaint rate"))
    def complaint_rate(self, obj):
        record = self._record(obj)
        return f"{record.complaint_rate * 100:.2f}%" if record else "–"


class ShipmentEventInline(ReadOnlyInline):
    model = ShipmentEvent
    fields = ("occurred_at", "kind", "location", "description", "source")
    readonly_fields = fields


class TrackingImportForm(forms.Form):
    file = forms.FileField(label=_("Tracking file (CSV: carrier, waybill_no, kind, "
                                   "occurred_at, location, description)"),
                           widget=UnfoldAdminFileFieldWidget)


class StalledFilter(admin.SimpleListFilter):
    title = _("stalled")
    parameter_name = "stalled"

    def lookups(self, request, model_admin):
        return (("yes", _("Yes")),)

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(stalled_at__isnull=False)
        return queryset


@admin.register(Shipment)
class ShipmentAdmin(ReadOnlyAdmin):
    list_display = ("waybill_no", "carrier", "order", "status", "price", "shipped_at",
                    "promised_by", "last_event_at", "stalled_at", "damaged", "complaint")
    list_filter = ("status", "carrier", StalledFilter, "damaged", "complaint")
    search_fields = ("waybill_no", "order__number")
    list_select_related = ("carrier", "order")
    date_hierarchy = "shipped_at"
    inlines = [ShipmentEventInline]
    actions = ["record_complaint"]

    def get_urls(self):
        return [path("import-tracking/", self.admin_site.admin_view(self.import_view),
                     name="delivery_shipment_import"), *super().get_urls()]

    def has_act_permission(self, request, obj=None):
        return request.user.has_perm("delivery.change_shipment")

    @action(description=_("Record a customer complaint"), permissions=["act"])
    def record_complaint(self, request, queryset):
        run_each(self, request, queryset.order_by("pk"),
                 lambda s: shipment_complaint_record(shipment=s, actor=request.user),
                 gettext("Complaints recorded: %(n)d."))

    def import_view(self, request):
        """Upload a carrier's tracking CSV: all rows or none."""
        if not request.user.has_perm("delivery.add_shipmentevent"):
            raise PermissionDenied
        form = TrackingImportForm(request.POST or None, request.FILES or None)
        errors, status = {}, 200
        if request.method == "POST":
            status = 400
            if form.is_valid():
                try:
                    result = shipment_events_import(content=form.cleaned_data["file"].read(),
                                                    actor=request.user)
                except DomainError as exc:
                    errors = exc.fields
                    self.message_user(request, exc.message, messages.ERROR)
                else:
                    self.message_user(request, gettext(
                        "Tracking events imported: %(created)d new, %(dup)d already known.")
                        % {"created": result.created, "dup": result.duplicates},
                        messages.SUCCESS)
                    return redirect("admin:delivery_shipment_changelist")
        context = {**self.admin_site.each_context(request), "opts": self.opts,
                   "title": gettext("Import tracking events"), "form": form,
                   "errors": sorted(errors.items())}
        return TemplateResponse(request, "delivery/admin/tracking_import.html", context,
                                status=status)


@admin.register(ShipmentEvent)
class ShipmentEventAdmin(ReadOnlyAdmin):
    list_display = ("shipment", "kind", "occurred_at", "location", "source", "created_at")
    list_filter = ("kind", "source")
    search_fields = ("shipment__waybill_no",)
    list_select_related = ("shipment",)



