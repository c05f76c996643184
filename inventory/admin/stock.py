"""The book, the ledger, statements, stock-state changes and opening stock."""

from datetime import datetime, time, timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.decorators import display
from unfold.widgets import (
    UnfoldAdminDateWidget,
    UnfoldAdminIntegerFieldWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminTextInputWidget,
)

from core.errors import DomainError
from inventory.admin.base import ReadOnlyAdminMixin
from inventory.admin.catalogue import ImportExportBase
from inventory.enums import MovementKind
from inventory.imports import OpeningStockResource
from inventory.models import OpeningStock, StockLevel, StockMovement
from inventory.selectors import stock_statement
from inventory.services import MANUAL_KINDS, stock_state_change


class StatementForm(forms.Form):
    start = forms.DateField(label=_("From"), required=False, widget=UnfoldAdminDateWidget)
    end = forms.DateField(label=_("To (inclusive)"), required=False,
                          widget=UnfoldAdminDateWidget)


class StateChangeForm(forms.Form):
    kind = forms.ChoiceField(label=_("Change"), widget=UnfoldAdminSelectWidget,
                             choices=[(k.value, k.label) for k in MovementKind
                                      if k in MANUAL_KINDS])
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=1_000_000,
                                  widget=UnfoldAdminIntegerFieldWidget)
    reason = forms.CharField(label=_("Reason"), max_length=255,
                             widget=UnfoldAdminTextInputWidget)


def _day_start(day):
    return timezone.make_aware(datetime.combine(day, time.min))


@admin.register(StockLevel)
class StockLevelAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ("sku", "location", "on_hand", "reserved", "available_now", "in_transit",
                    "returned", "quarantine", "statement_link", "updated_at")
    list_filter = ("location", "sku__product__category_node", "sku__product__category")
    search_fields = ("sku__code", "sku__name")
    list_select_related = ("sku", "location")
    readonly_fields = ("sku", "location", "on_hand", "reserved", "in_transit", "returned",
                       "quarantine", "updated_at")

    @display(description=_("available"))
    def available_now(self, obj):
        return obj.available

    @display(description=_("statement"))
    def statement_link(self, obj):
        return format_html('<a class="text-primary-600" href="{}">{}</a>',
                           reverse("admin:inventory_stocklevel_statement", args=[obj.pk]),
                           gettext("Statement"))

    def get_urls(self):
        return [
            path("<int:pk>/statement/", self.admin_site.admin_view(self.statement_view),
                 name="inventory_stocklevel_statement"),
            path("<int:pk>/state-change/", self.admin_site.admin_view(self.state_change_view),
                 name="inventory_stocklevel_state_change"),
            *super().get_urls(),
        ]

    def _level(self, request, pk) -> StockLevel:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return get_object_or_404(StockLevel.objects.select_related("sku", "location"), pk=pk)

    def statement_view(self, request, pk):
        """The SKU-location's history, read like a bank statement."""
        level = self._level(request, pk)
        form = StatementForm(request.GET or None)
        start = end = None
        if form.is_valid():
            start = form.cleaned_data["start"] and _day_start(form.cleaned_data["start"])
            end = form.cleaned_data["end"] and _day_start(form.cleaned_data["end"]
                                                          + timedelta(days=1))
        statement = stock_statement(sku=level.sku, location=level.location, start=start,
                                    end=end)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts, "title": gettext("Stock statement"),
            "subtitle": f"{level.sku.code} @ {level.location.name}",
            "level": level, "statement": statement, "form": form,
            "can_change": request.user.has_perm("inventory.change_stocklevel"),
        }
        return TemplateResponse(request, "inventory/admin/statement.html", context)

    def state_change_view(self, request, pk):
        """Move units between states by hand (returns, quarantine, write-off)."""
        level = self._level(request, pk)
        if not request.user.has_perm("inventory.change_stocklevel"):
            raise PermissionDenied
        form = StateChangeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                stock_state_change(sku=level.sku, location=level.location,
                                   kind=form.cleaned_data["kind"],
                                   quantity=form.cleaned_data["quantity"],
                                   reason=form.cleaned_data["reason"], actor=request.user)
            except DomainError as exc:
                for field, errors in exc.fields.items():
                    if field in form.fields:
                        for error in errors:
                            form.add_error(field, error)
                form.add_error(None, exc.message)
            else:
                self.message_user(request, gettext("Stock change recorded."), messages.SUCCESS)
                return redirect("admin:inventory_stocklevel_statement", pk=level.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts, "title": gettext("Change stock state"),
            "subtitle": f"{level.sku.code} @ {level.location.name}", "level": level,
            "form": form,
        }
        return TemplateResponse(request, "inventory/admin/state_change.html", context,
                                status=400 if request.method == "POST" else 200)


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ("created_at", "kind", "sku", "location", "on_hand_delta", "reserved_delta",
                    "in_transit_delta", "returned_delta", "quarantine_delta", "reference",
                    "order", "reason", "actor")
    list_filter = ("kind", "location")
    search_fields = ("sku__code", "order__number", "reference", "reason")
    list_select_related = ("sku", "location", "order", "actor")
    readonly_fields = [f.name for f in StockMovement._meta.fields]
    date_hierarchy = "created_at"


@admin.register(OpeningStock)
class OpeningStockAdmin(ReadOnlyAdminMixin, ImportExportBase, ModelAdmin):
    """Import opening stock (sku, location, quantity) through the stock
    service; export the current on hand in the same shape."""

    resource_classes = [OpeningStockResource]
    list_display = ("sku", "location", "on_hand", "updated_at")
    list_filter = ("location",)
    search_fields = ("sku__code",)
    list_select_related = ("sku", "location")

    def has_import_permission(self, request):
        return request.user.has_perm("inventory.change_stocklevel") and \
            request.user.has_perm("inventory.add_stocklevel")
