"""Delivery pages in the admin's look: today's dashboard (the delivery
department's dashboard), the dispatcher's map with hand moves, the courier
scorecard and capacity planning. Delivery staff use them; management and
supervision read them (core.departments). Moving a stop needs the
`change_delivery` permission."""

from __future__ import annotations

from datetime import date

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from core.errors import DomainError
from core.views import department_required, register_dashboard
from delivery import reports, selectors
from delivery.dispatch.adapter import project
from delivery.dispatch.moves import delivery_move
from delivery.models import Courier, Delivery, Zone

PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04",
           "#db2777", "#4f46e5", "#059669", "#b91c1c", "#7c3aed"]
MAP_W, MAP_H, MAP_PAD = 760, 460, 24


def _page(request, template: str, context: dict, status: int = 200):
    return render(request, template, {**admin.site.each_context(request), **context},
                  status=status)


# --- dashboard ------------------------------------------------------------------------------


@require_GET
def delivery_dashboard(request):
    data = reports.dashboard_today()
    return _page(request, "delivery/dashboard.html", {"title": _("Delivery"), **data,
                                                      "today": timezone.localdate()})


register_dashboard("delivery")(delivery_dashboard)
dashboard_view = department_required("delivery")(delivery_dashboard)


# --- dispatcher's map -------------------------------------------------------------------------


def _map(zone: Zone, routes: list[dict]) -> dict:
    """Stops and hub projected around the zone centre, scaled into the SVG."""
    centre = (float(zone.centre_lat), float(zone.centre_lng))
    hub = zone.hub
    hub_ll = ((float(hub.lat), float(hub.lng)) if hub and hub.lat is not None
              and hub.lng is not None else centre)
    hub_xy = project(*hub_ll, centre_lat=centre[0], centre_lng=centre[1])
    points = [hub_xy]
    per_route = []
    for route in routes:
        xy = []
        for stop in route["stops"]:
            order = stop.order
            if order.lat is None or order.lng is None:
                p = (0.0, 0.0)
            else:
                p = project(float(order.lat), float(order.lng), centre_lat=centre[0],
                            centre_lng=centre[1])
            xy.append((stop, p))
            points.append(p)
        per_route.append(xy)
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 500.0)
    scale = min((MAP_W - 2 * MAP_PAD) / span, (MAP_H - 2 * MAP_PAD) / span)
    ox, oy = min(xs), max(ys)

    def px(p):
        return round(MAP_PAD + (p[0] - ox) * scale, 1), round(MAP_PAD + (oy - p[1]) * scale, 1)

    hub_px = px(hub_xy)
    lines, dots = [], []
    for index, (route, xy) in enumerate(zip(routes, per_route, strict=True)):
        colour = PALETTE[index % len(PALETTE)]
        route["colour"] = colour
        if not xy:
            continue
        path = [hub_px] + [px(p) for _stop, p in xy] + [hub_px]
        lines.append({"colour": colour, "points": " ".join(f"{x},{y}" for x, y in path),
                      "courier": route["courier"].name})
        for stop, p in xy:
            x, y = px(p)
            dots.append({"x": x, "y": y, "colour": colour, "n": stop.sequence,
                         "late": stop.is_late, "picked": stop.status == "picked_up",
                         "title": f"{route['courier'].name} #{stop.sequence} "
                                  f"{stop.order.number}"})
    return {"width": MAP_W, "height": MAP_H, "hub": {"x": hub_px[0], "y": hub_px[1]},
            "lines": lines, "dots": dots, "metres": round(span), "scale_px": round(1000 * scale)}


@require_GET
def dispatch_page(request, zone_id: int | None = None):
    zones = list(Zone.objects.filter(is_active=True).order_by("code"))
    if zone_id is None:
        if not zones:
            return _page(request, "delivery/dispatch.html", {"title": _("Dispatch"),
                                                             "zones": zones})
        return redirect("delivery:dispatch-zone", zones[0].pk)
    zone = get_object_or_404(Zone.objects.select_related("hub"), pk=zone_id)
    routes = selectors.zone_plan(zone=zone)
    plot = _map(zone, routes)
    couriers = [r["courier"] for r in routes]
    return _page(request, "delivery/dispatch.html", {
        "title": _("Dispatch"), "zones": zones, "zone": zone, "routes": routes, "map": plot,
        "couriers": couriers, "can_move": request.user.has_perm("delivery.change_delivery"),
        "awaiting": selectors.orders_awaiting_dispatch(zone=zone).count(),
        "last_run": zone.dispatch_runs.first(),
    })


class MoveForm(forms.Form):
    courier = forms.ModelChoiceField(queryset=Courier.objects.all(), label=gettext_lazy("Courier"))
    position = forms.IntegerField(min_value=1, max_value=10_000, label=gettext_lazy("Position"))
    reason = forms.CharField(max_length=255, required=False, label=gettext_lazy("Reason"))


@require_POST
def move_page(request, delivery_id: int):
    if not request.user.has_perm("delivery.change_delivery"):
        raise PermissionDenied
    delivery = get_object_or_404(Delivery, pk=delivery_id)
    back = reverse("delivery:dispatch-zone", args=[delivery.zone_id])
    form = MoveForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(f"{field}: {' '.join(errs)}" for field, errs in form.errors.items())
        messages.error(request, _("The move was not made: %(errors)s") % {"errors": errors})
        return redirect(back)
    try:
        delivery_move(delivery=delivery, courier=form.cleaned_data["courier"],
                      position=form.cleaned_data["position"], actor=request.user,
                      reason=form.cleaned_data["reason"])
    except DomainError as exc:
        messages.error(request, _("The move was not made: %(errors)s") % {"errors": exc.message})
    else:
        messages.success(request, _("Order %(number)s moved to %(courier)s, stop %(n)d.") % {
            "number": delivery.order.number, "courier": form.cleaned_data["courier"].name,
            "n": form.cleaned_data["position"]})
    return redirect(back)


dispatch_view = department_required("delivery")(dispatch_page)
move_view = department_required("delivery")(move_page)


# --- scorecard and capacity -------------------------------------------------------------------


class ScorecardForm(forms.Form):
    month = forms.DateField(label=gettext_lazy("Month"), required=False,
                            input_formats=["%Y-%m"], widget=forms.DateInput(
                                attrs={"type": "month"}, format="%Y-%m"))
    zone = forms.ModelChoiceField(label=gettext_lazy("Zone"), required=False,
                                  queryset=Zone.objects.all())


@require_GET
def scorecard_page(request):
    form = ScorecardForm(request.GET or None)
    if request.GET and not form.is_valid():
        return _page(request, "delivery/scorecard.html",
                     {"title": _("Courier scorecard"), "form": form}, status=400)
    data = form.cleaned_data if form.is_bound else {}
    month = data.get("month") or timezone.localdate().replace(day=1)
    rows = reports.courier_kpis(month=month, zone=data.get("zone"))
    return _page(request, "delivery/scorecard.html", {
        "title": _("Courier scorecard"), "form": form, "month": month, "rows": rows})


class CapacityForm(forms.Form):
    start = forms.DateField(label=gettext_lazy("From"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    days = forms.IntegerField(label=gettext_lazy("Days"), required=False, min_value=1,
                              max_value=60)
    zone = forms.ModelChoiceField(label=gettext_lazy("Zone"), required=False,
                                  queryset=Zone.objects.all())


@require_GET
def capacity_page(request):
    form = CapacityForm(request.GET or None)
    if request.GET and not form.is_valid():
        return _page(request, "delivery/capacity.html",
                     {"title": _("Capacity planning"), "form": form}, status=400)
    data = form.cleaned_data if form.is_bound else {}
    start: date = data.get("start") or timezone.localdate()
    rows = reports.capacity_plan(start=start, days=data.get("days") or 14, zone=data.get("zone"))
    return _page(request, "delivery/capacity.html", {
        "title": _("Capacity planning"), "form": form, "rows": rows,
        "short_days": sum(1 for r in rows if r.shortfall)})


scorecard_view = department_required("delivery")(scorecard_page)
capacity_view = department_required("delivery")(capacity_page)
