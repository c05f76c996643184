"""Inventory pages in the admin's look: the dashboard (store sales' own, also
reachable from the department dashboards) and the reports with XLSX export.
Store sales owns inventory; management and supervision read every dashboard
(core.departments)."""

import json
from functools import wraps

from django import forms
from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from core.departments import Department
from core.views import DASHBOARDS, register_dashboard
from inventory.enums import AlertKind, SuggestionStatus
from inventory.models import Category, Location, ReplenishmentSuggestion
from inventory.reports import (
    inventory_report_xlsx,
    location_summaries,
    slow_movers,
    turnover_by_location,
    turnover_rows,
)
from inventory.selectors import alerts_open, stock_low_list, stock_value_by_location

PERIODS = [(30, gettext_lazy("30 days")), (90, gettext_lazy("90 days")),
           (180, gettext_lazy("180 days")), (365, gettext_lazy("365 days"))]


def _page(request, template: str, context: dict, status: int = 200):
    return render(request, template, {**admin.site.each_context(request), **context},
                  status=status)


@require_GET
def inventory_dashboard(request):
    """Low stock, stock value by location, turnover by location, open alerts."""
    turnover = turnover_by_location(days=90)
    chart = {
        "labels": [row["name"] for row in turnover],
        "datasets": [{"label": str(_("Turnover (90 days)")),
                      "data": [float(row["turnover"]) for row in turnover],
                      "backgroundColor": "var(--color-primary-600)",
                      "maxBarThickness": 36, "displayYAxis": True}],
    }
    values = stock_value_by_location()
    alerts = alerts_open()
    return _page(request, "inventory/dashboard.html", {
        "title": _("Inventory"),
        "low_stock": list(stock_low_list(limit=15)),
        "stock_values": values,
        "stock_value_total": sum((row["value"] for row in values), 0),
        "turnover": turnover,
        "turnover_chart": json.dumps(chart, ensure_ascii=False),
        "alerts": list(alerts[:20]),
        "alert_count": alerts.count(),
        "out_of_stock_count": alerts.filter(kind=AlertKind.OUT_OF_STOCK).count(),
        "suggestion_count": ReplenishmentSuggestion.objects.filter(
            status=SuggestionStatus.DRAFT).count(),
    })


class ReportForm(forms.Form):
    days = forms.TypedChoiceField(label=gettext_lazy("Period"), choices=PERIODS, coerce=int,
                                  required=False, initial=90)
    location = forms.ModelChoiceField(label=gettext_lazy("Location"), required=False,
                                      queryset=Location.objects.filter(is_active=True))
    category = forms.ModelChoiceField(label=gettext_lazy("Category"), required=False,
                                      queryset=Category.objects.all())

    def values(self) -> dict:
        data = self.cleaned_data
        return {"days": data.get("days") or 90,
                "location_id": data["location"].pk if data.get("location") else None,
                "category_path": data["category"].path if data.get("category") else None}


@require_GET
def inventory_reports(request):
    form = ReportForm(request.GET or None)
    if request.GET and not form.is_valid():
        return _page(request, "inventory/reports.html",
                     {"title": _("Inventory reports"), "form": form}, status=400)
    params = form.values() if form.is_bound else {"days": 90, "location_id": None,
                                                   "category_path": None}
    rows = turnover_rows(**params)
    return _page(request, "inventory/reports.html", {
        "title": _("Inventory reports"), "form": form, "params": params,
        "rows": rows[:300], "row_count": len(rows), "slow": slow_movers(rows)[:100],
        "summaries": location_summaries(rows),
        "export_query": request.GET.urlencode(),
    })


@require_GET
def inventory_reports_xlsx(request):
    form = ReportForm(request.GET or None)
    if request.GET and not form.is_valid():
        return HttpResponse(_("Invalid report filters."), status=400,
                            content_type="text/plain; charset=utf-8")
    params = form.values() if form.is_bound else {"days": 90, "location_id": None,
                                                   "category_path": None}
    content = inventory_report_xlsx(**params)
    name = f"inventory-report-{timezone.localdate():%Y%m%d}.xlsx"
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def inventory_reader_required(view):
    """Staff whose department may read inventory (store sales owns it; the
    departments that read it, management and supervision; core.departments)."""

    @staff_member_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.has_perm("inventory.view_stocklevel"):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


dashboard_view = inventory_reader_required(inventory_dashboard)
reports_view = inventory_reader_required(inventory_reports)
reports_xlsx_view = inventory_reader_required(inventory_reports_xlsx)

# Store sales owns inventory: its department dashboard is this page, unless
# the sales app registered one of its own first.
if Department.STORE_SALES not in DASHBOARDS:
    register_dashboard(Department.STORE_SALES)(inventory_dashboard)
