"""Deterministic, idempotent demo data: each app adds its part in `<app>/seed.py`
(`def seed(*, stdout) -> None`), run in INSTALLED_APPS order."""

from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _


class Command(BaseCommand):
    help = _("Load the demo data (safe to run again).")

    def handle(self, *args, **options):
        for config in apps.get_app_configs():
            module_name = f"{config.name}.seed"
            if find_spec(module_name) is None:
                continue
            self.stdout.write(f"seed_demo: {config.label}")
            import_module(module_name).seed(stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS(_("Demo data ready.")))
