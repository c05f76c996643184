from django.urls import reverse

from core.departments import Department, user_can_open_dashboard
from core.selectors import job_runs_recent


def dashboard_callback(request, context):
    """Admin home: the dashboards this user may open, and recent job runs."""
    user = request.user
    context["department_dashboards"] = [
        {"code": dept.value, "label": dept.label,
         "url": reverse("department-dashboard", args=[dept.value])}
        for dept in Department
        if user_can_open_dashboard(user, dept.value)
    ]
    if user.has_perm("core.view_jobrun"):
        context["recent_job_runs"] = list(job_runs_recent(limit=8))
    return context
