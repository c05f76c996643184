"""Staff screens for channels, stores, customers and orders.

Orders are read-only here: every change (cancel, run the review again,
approve an exception) is an action that calls the service, which locks the
order, checks the transition, writes the timeline and the audit trail."""


from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action, display
from unfold.forms import BaseDialogForm
from unfold.widgets import UnfoldAdminTextInputWidget

from core.errors import DomainError
from sales.enums import ExceptionReason, OrderStatus
from sales.models import (
    Channel,
    ChannelSkuBuffer,
    Customer,
    Order,
    OrderAllocation,
    OrderEvent,
    OrderExceptionQueue,
    OrderLine,
    PartnerApiKey,
    Store,
    StorePhoto,
    WebhookDelivery,
)
from sales.partner_keys import partner_key_revoke
from sales.services import order_cancel, order_retry_review
from sales.webhooks import webhooks_retry_now

STATUS_COLOURS = {
    OrderStatus.PENDING_REVIEW: "info",
    OrderStatus.CONFIRMED: "info",
    OrderStatus.PICKING: "info",
    OrderStatus.PACKED: "info",
    OrderStatus.DISPATCHED: "primary",
    OrderStatus.DELIVERED: "success",
    OrderStatus.COMPLETED: "success",
    OrderStatus.EXCEPTION: "danger",
    OrderStatus.CANCELLED: "warning",
    OrderStatus.RETURNED: "warning",
}
REVIEW_OPEN = (OrderStatus.PENDING_REVIEW, OrderStatus.EXCEPTION)
STATUS_LABELS = dict(OrderStatus.choices)
EXCEPTION_LABELS = dict(ExceptionReason.choices)


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


# --- channels and stores -------------------------------------------------------------

class ChannelSkuBufferInline(TabularInline):
    model = ChannelSkuBuffer
    extra = 0
    fields = ("sku", "buffer")
    autocomplete_fields = ("sku",)


@admin.register(Channel)
class ChannelAdmin(SimpleHistoryAdmin, ModelAdmin):
    list_display = ("code", "name", "kind", "commission_percent", "location_count", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "name")
    filter_horizontal = ("locations",)
    inlines = [ChannelSkuBufferInline]
    fieldsets = (
        (None, {"fields": ("code", "name", "kind", "is_active")}),
        (_("Fees"), {"fields": ("commission_rate", "fee_terms")}),
        (_("Serving locations"), {"fields": ("locations",)}),
        (_("Webhook"), {"fields": ("webhook_url", "webhook_secret")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(location_count=Count("locations"))

    @display(description=_("commission"), ordering="commission_rate")
    def commission_percent(self, obj):
        return f"{obj.commission_rate * 100:.2f}%"

    @display(description=_("serving locations"), ordering="location_count")
    def location_count(self, obj):
        return obj.location_count


class StorePhotoInline(TabularInline):
    model = StorePhoto
    extra = 0
    fields = ("image", "caption")


@admin.register(Store)
class StoreAdmin(SimpleHistoryAdmin, ModelAdmin):
    list_display = ("name", "address", "phone", "opening_hours", "is_pickup_point")
    list_filter = ("is_pickup_point",)
    search_fields = ("name", "address", "phone")
    list_select_related = ("location",)
    inlines = [StorePhotoInline]


@admin.register(Customer)
class CustomerAdmin(ModelAdmin):
    list_display = ("name", "phone", "email", "order_count", "created_at")
    search_fields = ("name", "phone", "email")
    readonly_fields = ("created_at",)
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(order_count=Count("orders"))

    @display(description=_("orders"), ordering="order_count")
    def order_count(self, obj):
        return obj.order_count

    def has_delete_permission(self, request, obj=None):
        return False


# --- orders --------------------------------------------------------------------------

class ReviewOverdueFilter(admin.SimpleListFilter):
    title = _("review overdue")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return (("yes", _("Yes")), ("no", _("No")))

    def queryset(self, request, queryset):
        overdue = Q(status__in=REVIEW_OPEN, review_deadline__lt=timezone.now())
        if self.value() == "yes":
            return queryset.filter(overdue)
        if self.value() == "no":
            return queryset.exclude(overdue)
        return queryset


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ("sku_code", "name", "quantity", "unit_price", "discount", "line_total")
    readonly_fields = fields


class OrderAllocationInline(ReadOnlyInline):
    model = OrderAllocation
    fields = ("sku", "location", "quantity")
    readonly_fields = fields
    verbose_name_plural = _("stock reserved")


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    fields = ("created_at", "kind", "from_label", "to_label", "actor_label", "reason_label")
    readonly_fields = fields
    ordering = ("created_at", "pk")
    verbose_name_plural = _("timeline")

    @display(description=_("from"))
    def from_label(self, obj):
        return STATUS_LABELS.get(obj.from_status, obj.from_status)

    @display(description=_("to"))
    def to_label(self, obj):
        return STATUS_LABELS.get(obj.to_status, obj.to_status)

    @display(description=_("reason"))
    def reason_label(self, obj):
        return EXCEPTION_LABELS.get(obj.reason, obj.reason)


class ReasonForm(BaseDialogForm):
    reason = forms.CharField(label=_("Reason"), max_length=255, required=False,
                             widget=UnfoldAdminTextInputWidget)


def _dialog(title, description):
    return {"title": title, "description": description, "form_class": ReasonForm,
            "form_submit_text": _("Confirm")}


class OrderAdmin(ModelAdmin):
    """Orders, read-only: changes go through the actions (services)."""

    list_display = ("number", "channel", "external_id", "customer", "status_label",
                    "exception_reason", "priority", "fulfilment", "total", "created_at")
    list_filter = ("status", "channel", "fulfilment", "priority", "exception_reason",
                   ReviewOverdueFilter)
    search_fields = ("number", "external_id", "customer__phone")
    search_help_text = _("Order number, platform order id or customer phone")
    list_select_related = ("channel", "customer")
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Order._meta.fields]
    fieldsets = (
        (None, {"fields": ("number", "channel", "external_id", "customer", "status",
                           "exception_reason", "priority", "note")}),
        (_("Fulfilment"), {"fields": ("fulfilment", "pickup_store", "province", "city",
                                      "district", "line1", "lat", "lng", "window_start",
                                      "window_end")}),
        (_("Amounts"), {"fields": ("subtotal", "discount_total", "total", "paid_amount")}),
        (_("Review"), {"fields": ("review_deadline", "review_overdue_at", "created_at",
                                  "updated_at")}),
    )
    inlines = [OrderLineInline, OrderAllocationInline, OrderEventInline]
    actions = ["cancel_selected", "retry_review_selected", "approve_selected"]
    actions_detail = ["cancel_order", "retry_review_order", "approve_order"]

    @display(description=_("status"), ordering="status", label=STATUS_COLOURS)
    def status_label(self, obj):
        return obj.status, obj.get_status_display()

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # The form is view-only: saving it would write back every field of a
        # possibly stale row. Changes are the actions below (services).
        return False

    def has_act_permission(self, request, obj=None):
        return super().has_change_permission(request, obj)

    def has_resolve_exception_permission(self, request, obj=None):
        return request.user.has_perm("sales.resolve_exception")

    # The services do the work; these only report back.
    def _run(self, request, orders, call, done_message) -> int:
        done = 0
        for order in orders:
            try:
                call(order)
            except DomainError as exc:
                self.message_user(request, f"{order.number}: {exc.message}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, done_message % {"n": done}, messages.SUCCESS)
        return done

    @staticmethod
    def _cancel(request, reason=""):
        reason = reason or gettext("Cancelled in the back office")
        return lambda order: order_cancel(order=order, actor=request.user, reason=reason)

    @staticmethod
    def _review(request, *, approve, reason=""):
        return lambda order: order_retry_review(order=order, actor=request.user,
                                                approve=approve, reason=reason)

    @action(description=_("Cancel the selected orders (releases stock)"),
            permissions=["act"])
    def cancel_selected(self, request, queryset):
        self._run(request, queryset.order_by("pk"), self._cancel(request),
                  gettext("Orders cancelled: %(n)d."))

    @action(description=_("Run the review again for the selected orders"),
            permissions=["act"])
    def retry_review_selected(self, request, queryset):
        self._run(request, queryset.order_by("pk"), self._review(request, approve=False),
                  gettext("Orders reviewed again: %(n)d."))

    @action(description=_("Approve the selected exceptions (reserve stock)"),
            permissions=["act", "resolve_exception"])
    def approve_selected(self, request, queryset):
        self._run(request, queryset.order_by("pk"), self._review(request, approve=True),
                  gettext("Exceptions approved: %(n)d."))

    def _detail(self, request, object_id, call, done_message):
        order = self.get_object(request, object_id)
        if order is not None:
            self._run(request, [order], call, done_message)
        # The order's own page: after an action it may have left the queue.
        url = reverse("admin:sales_order_change", args=[object_id])
        return HttpResponse(headers={"HX-Redirect": url})

    @action(description=_("Cancel order"), url_path="cancel", permissions=["act"],
            dialog=_dialog(_("Cancel this order?"),
                           _("Reserved stock goes back; the channel is notified.")))
    def cancel_order(self, request, form, object_id):
        return self._detail(request, object_id,
                            self._cancel(request, form.cleaned_data["reason"]),
                            gettext("Orders cancelled: %(n)d."))

    @action(description=_("Run review again"), url_path="retry-review", permissions=["act"],
            dialog=_dialog(_("Run the automatic review again?"),
                           _("For example after a restock or a corrected address.")))
    def retry_review_order(self, request, form, object_id):
        return self._detail(request, object_id,
                            self._review(request, approve=False,
                                         reason=form.cleaned_data["reason"]),
                            gettext("Orders reviewed again: %(n)d."))

    @action(description=_("Approve exception"), url_path="approve",
            permissions=["act", "resolve_exception"],
            dialog=_dialog(_("Approve this exception?"),
                           _("The checks are skipped; stock is still reserved, never "
                             "overridden.")))
    def approve_order(self, request, form, object_id):
        return self._detail(request, object_id,
                            self._review(request, approve=True,
                                         reason=form.cleaned_data["reason"]),
                            gettext("Exceptions approved: %(n)d."))


admin.site.register(Order, OrderAdmin)


@admin.register(OrderExceptionQueue)
class OrderExceptionQueueAdmin(OrderAdmin):
    """订单异常队列: orders in exception, the nearest review deadline first."""

    list_display = ("number", "exception_reason", "review_deadline", "overdue", "channel",
                    "customer", "total", "paid_amount", "fulfilment", "priority",
                    "created_at")
    list_filter = ("exception_reason", "channel", "fulfilment", "priority", ReviewOverdueFilter)
    ordering = ("review_deadline", "pk")
    date_hierarchy = None

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status=OrderStatus.EXCEPTION)

    @display(description=_("overdue"), boolean=True)
    def overdue(self, obj):
        return obj.review_deadline < timezone.now()


# --- partner keys and webhooks -------------------------------------------------------

@admin.register(PartnerApiKey)
class PartnerApiKeyAdmin(ModelAdmin):
    """Keys are created with `manage.py create_partner_key`; the hash is never shown."""

    list_display = ("prefix", "channel", "name", "created_at", "revoked_at", "active")
    list_filter = ("channel", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("prefix", "name", "channel__code")
    fields = ("channel", "name", "prefix", "created_at", "revoked_at")
    readonly_fields = fields
    actions = ["revoke_selected"]

    @display(description=_("active"), boolean=True)
    def active(self, obj):
        return obj.revoked_at is None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_revoke_permission(self, request, obj=None):
        return request.user.has_perm("sales.change_partnerapikey")

    @action(description=_("Revoke the selected keys"), permissions=["revoke"])
    def revoke_selected(self, request, queryset):
        keys = list(queryset.filter(revoked_at__isnull=True).order_by("pk"))
        for key in keys:
            partner_key_revoke(key=key, actor=request.user)
        self.message_user(request, gettext("Keys revoked: %(n)d.") % {"n": len(keys)},
                          messages.SUCCESS)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ModelAdmin):
    list_display = ("event", "channel", "order", "status", "attempts", "next_attempt_at",
                    "delivered_at", "last_error", "created_at")
    list_filter = ("status", "channel", "event")
    search_fields = ("order__number", "last_error")
    list_select_related = ("channel", "order")
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    date_hierarchy = "created_at"
    actions = ["retry_now"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_retry_permission(self, request, obj=None):
        return request.user.has_perm("sales.change_webhookdelivery")

    @action(description=_("Retry now"), permissions=["retry"])
    def retry_now(self, request, queryset):
        count = webhooks_retry_now(deliveries=list(queryset), actor=request.user)
        self.message_user(request, gettext("Webhooks queued for delivery: %(n)d.") % {"n": count},
                          messages.SUCCESS)
