"""Safety stock and reorder points, alerts, replenishment suggestions and
the channel stock snapshots."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.decorators import action, display

from core.errors import DomainError
from inventory.admin.base import ReadOnlyAdminMixin
from inventory.enums import AlertKind, PolicyMethod, SuggestionStatus
from inventory.models import (
    ChannelStockSnapshot,
    ReplenishmentSuggestion,
    StockAlert,
    StockPolicy,
)
from inventory.replenishment import (
    stock_policies_compute,
    stock_policy_set,
    suggestion_quantity_set,
    suggestions_approve,
    suggestions_dismiss,
)


class StockPolicyForm(forms.ModelForm):
    class Meta:
        model = StockPolicy
        fields = ("sku", "location", "method", "safety_stock", "reorder_point",
                  "lead_time_days", "review_days", "history_weeks")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("method") == PolicyMethod.MANUAL:
            safety, rop = cleaned.get("safety_stock"), cleaned.get("reorder_point")
            if safety is not None and rop is not None and rop < safety:
                self.add_error("reorder_point",
                               gettext("The reorder point cannot be below the safety stock."))
        return cleaned


@admin.register(StockPolicy)
class StockPolicyAdmin(ModelAdmin):
    form = StockPolicyForm
    list_display = ("sku", "location", "method", "safety_stock", "reorder_point",
                    "lead_time_days", "avg_daily_sales", "computed_at")
    list_filter = ("method", "location")
    search_fields = ("sku__code", "sku__name")
    list_select_related = ("sku", "location")
    autocomplete_fields = ("sku",)
    readonly_fields = ("avg_daily_sales", "computed_at", "updated_at")
    actions = ["recompute_selected"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:  # a policy belongs to its SKU-location for good
            return ("sku", "location", *self.readonly_fields)
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if obj.method == PolicyMethod.MANUAL:
            policy = stock_policy_set(sku=obj.sku, location=obj.location,
                                      safety_stock=obj.safety_stock,
                                      reorder_point=obj.reorder_point,
                                      lead_time_days=obj.lead_time_days,
                                      review_days=obj.review_days, actor=request.user)
            obj.pk = policy.pk
        else:
            if obj.reorder_point < obj.safety_stock:
                obj.reorder_point = obj.safety_stock
            super().save_model(request, obj, form, change)
            stock_policies_compute(policies=StockPolicy.objects.filter(pk=obj.pk),
                                   actor=request.user)

    def has_recompute_permission(self, request):
        return request.user.has_perm("inventory.change_stockpolicy")

    @action(description=_("Recompute the selected (computed) policies from sales"),
            permissions=["recompute"])
    def recompute_selected(self, request, queryset):
        count = stock_policies_compute(policies=queryset, actor=request.user)
        self.message_user(request, gettext("Policies recomputed: %(n)d.") % {"n": count},
                          messages.SUCCESS)


ALERT_COLOURS = {AlertKind.LOW_STOCK: "warning", AlertKind.OUT_OF_STOCK: "danger"}


class OpenAlertsFirst(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", _("Open")), ("closed", _("Closed")), ("all", _("All"))]

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {"selected": (self.value() or "open") == lookup,
                   "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                   "display": title}

    def queryset(self, request, queryset):
        value = self.value() or "open"
        if value == "all":
            return queryset
        return queryset.filter(status=value)


@admin.register(StockAlert)
class StockAlertAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ("kind_label", "sku", "location", "available", "reorder_point", "opened_at",
                    "checked_at", "closed_at")
    list_filter = (OpenAlertsFirst, "kind", "location")
    search_fields = ("sku__code", "sku__name")
    list_select_related = ("sku", "location")
    date_hierarchy = "opened_at"

    @display(description=_("kind"), ordering="kind", label=ALERT_COLOURS)
    def kind_label(self, obj):
        return obj.kind, obj.get_kind_display()


class SuggestionForm(forms.ModelForm):
    class Meta:
        model = ReplenishmentSuggestion
        fields = ("quantity",)


@admin.register(ReplenishmentSuggestion)
class ReplenishmentSuggestionAdmin(ModelAdmin):
    """Drafted by the alerts job; a buyer may change the quantity, then
    approves (into transfer orders / purchase requests) or dismisses."""

    form = SuggestionForm
    list_display = ("sku", "location", "kind", "source", "quantity", "available", "in_transit",
                    "avg_daily_sales", "trend", "lead_time_days", "status", "created_at")
    list_filter = ("status", "kind", "location")
    search_fields = ("sku__code", "sku__name")
    list_select_related = ("sku", "location", "source")
    readonly_fields = ("sku", "location", "kind", "source", "available", "in_transit",
                       "avg_daily_sales", "trend", "lead_time_days", "status", "created_at",
                       "decided_at", "decided_by", "transfer", "purchase_request")
    fields = ("sku", "location", "kind", "source", "quantity", *readonly_fields[4:])
    actions = ["approve_selected", "dismiss_selected"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status != SuggestionStatus.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    def has_approve_permission(self, request):
        return request.user.has_perm("inventory.approve_replenishment")

    def save_model(self, request, obj, form, change):
        # Only the quantity of a draft changes here; approval is an action.
        suggestion_quantity_set(suggestion=obj, quantity=obj.quantity, actor=request.user)

    @action(description=_("Approve the selected suggestions (create transfer orders and "
                          "purchase requests)"), permissions=["approve"])
    def approve_selected(self, request, queryset):
        try:
            result = suggestions_approve(suggestions=list(queryset), actor=request.user)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(request, gettext(
            "Created %(t)d transfer orders and %(p)d purchase requests.")
            % {"t": len(result.transfers), "p": len(result.purchase_requests)},
            messages.SUCCESS)

    @action(description=_("Dismiss the selected suggestions"), permissions=["approve"])
    def dismiss_selected(self, request, queryset):
        try:
            count = suggestions_dismiss(suggestions=list(queryset), actor=request.user)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(request, gettext("Suggestions dismissed: %(n)d.") % {"n": count},
                          messages.SUCCESS)


@admin.register(ChannelStockSnapshot)
class ChannelStockSnapshotAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ("channel", "sku", "available", "pushed_at")
    list_filter = ("channel",)
    search_fields = ("sku__code",)
    list_select_related = ("channel", "sku")

