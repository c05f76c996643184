"""Delivery pages, the courier API and the delivery part of the staff API;
included once at the root (config/urls.py), so every prefix lives here."""

from django.urls import include, path

from delivery import views
from delivery.api.urls import courier_urlpatterns, staff_urlpatterns

app_name = "delivery"

urlpatterns = [
    path("delivery/", views.dashboard_view, name="dashboard"),
    path("delivery/dispatch/", views.dispatch_view, name="dispatch"),
    path("delivery/dispatch/<int:zone_id>/", views.dispatch_view, name="dispatch-zone"),
    path("delivery/dispatch/move/<int:delivery_id>/", views.move_view, name="dispatch-move"),
    path("delivery/scorecard/", views.scorecard_view, name="scorecard"),
    path("delivery/capacity/", views.capacity_view, name="capacity"),
    path("api/v1/courier/", include(courier_urlpatterns)),
    path("api/v1/staff/delivery/", include(staff_urlpatterns)),
]
