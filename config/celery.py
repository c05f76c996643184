"""The Celery app. Workers: `celery -A config worker`; beat: `celery -A config
beat` (schedules live in django-celery-beat, editable in the admin)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("rongtong")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
