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
        _psycopg_query_cache_widen()


def _psycopg_query_cache_widen() -> None:
    """psycopg turns a statement's `%s` placeholders into `$n` with a regex on
    every run unless the statement is short (4 KB, 50 parameters); the order
    intake's closing statement (core.sql.write_batch) is longer, and the
    same text every time. Measured: 0.4 ms of CPU per order. The limits are
    module constants of psycopg's query module; if a release renames them,
    this does nothing."""
    try:
        from psycopg import _queries
    except ImportError:  # SQLite-only installs
        return
    if hasattr(_queries, "MAX_CACHED_STATEMENT_PARAMS"):
        _queries.MAX_CACHED_STATEMENT_LENGTH = max(_queries.MAX_CACHED_STATEMENT_LENGTH, 16384)
        _queries.MAX_CACHED_STATEMENT_PARAMS = max(_queries.MAX_CACHED_STATEMENT_PARAMS, 400)
