from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.departments import Department, user_can_open_dashboard
from core.health import broker_check, database_check


@never_cache
@require_GET
def healthz(request):
    checks = {"database": database_check(), "broker": broker_check()}
    healthy = all(check["ok"] for check in checks.values())
    return JsonResponse({"status": "ok" if healthy else "unavailable", "checks": checks},
                        status=200 if healthy else 503)


def department_required(department: str):
    """View decorator: staff of `department` (or management/supervision)."""

    def decorator(view):
        @staff_member_required
        def wrapped(request, *args, **kwargs):
            if not user_can_open_dashboard(request.user, department):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.__name__ = view.__name__
        wrapped.__doc__ = view.__doc__
        return wrapped

    return decorator


DASHBOARDS: dict[str, object] = {}


def register_dashboard(department: str):
    """Apps register their department's dashboard view here."""

    def decorator(view):
        DASHBOARDS[department] = department_required(department)(view)
        return view

    return decorator


@staff_member_required
def department_dashboard(request, department: str):
    if department not in Department.values:
        raise Http404
    view = DASHBOARDS.get(department)
    if view is not None:
        return view(request)
    if not user_can_open_dashboard(request.user, department):
        raise PermissionDenied
    from django.contrib import admin

    from core.departments import OWNERSHIP

    owned = set(OWNERSHIP[department][0])
    apps = [app for app in admin.site.get_app_list(request) if app["app_label"] in owned]
    return render(request, "core/department_dashboard.html", {
        "title": Department(department).label,
        "department": department,
        "apps": apps,
    })
