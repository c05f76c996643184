from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """Shared ground that belongs to no single department (technical support):
    departments and permissions, audit trail, scheduled-job runs, health,
    money and error conventions."""

    name = "core"
    verbose_name = _("Technical support")

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        from core import departments, scheduling

        # Every app declares its scheduled jobs in `<app>/jobs.py`.
        autodiscover_modules("jobs")
        post_migrate.connect(departments.department_permissions_sync, dispatch_uid="core.perms")
        post_migrate.connect(scheduling.schedules_sync, dispatch_uid="core.schedules")
