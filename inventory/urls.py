"""Inventory pages and the inventory part of the staff API. Included once at
the root (config/urls.py), so both prefixes live here."""

from django.urls import include, path

from inventory import views

app_name = "inventory"

urlpatterns = [
    path("inventory/", views.dashboard_view, name="dashboard"),
    path("inventory/reports/", views.reports_view, name="reports"),
    path("inventory/reports.xlsx", views.reports_xlsx_view, name="reports-xlsx"),
    path("api/v1/staff/inventory/", include("inventory.api.urls")),
]
