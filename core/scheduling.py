"""Scheduled jobs: one registry, one run record, one place for schedules.

An app declares a job in its `jobs.py`::

    @scheduled_job(name="inventory_alerts", description=_("Raise low-stock alerts"))
    def inventory_alerts() -> dict[str, int]:
        ...
        return {"alerts_opened": 3}

That registers a Celery task `jobs.<name>` (thin: it only calls `job_run`),
and `python manage.py run_job NAME` runs the same thing synchronously. The
schedule itself lives in `config/schedules.py`; after migrate, every job with
a schedule gets a django-celery-beat PeriodicTask if it has none yet, so ops
can change times in the admin without a deploy overwriting them.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from celery import shared_task
from django.utils import timezone

from core.models import JobRun

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    description: str
    func: Callable[[], dict]
    task_name: str


JOBS: dict[str, Job] = {}


def scheduled_job(*, name: str, description: str):
    def decorator(func: Callable[[], dict]) -> Callable[[], dict]:
        task_name = f"jobs.{name}"
        JOBS[name] = Job(name=name, description=str(description), func=func, task_name=task_name)

        @shared_task(name=task_name, ignore_result=True)
        def _task() -> None:
            job_run(name=name, trigger=JobRun.Trigger.SCHEDULE)

        return func

    return decorator


def job_run(*, name: str, trigger: str = JobRun.Trigger.MANUAL) -> JobRun:
    """Run a registered job now and record the run (start, end, counts, error).

    A failing job is recorded as failed and its exception re-raised, so Celery
    and the command line both see it."""
    job = JOBS[name]
    run = JobRun.objects.create(name=name, trigger=trigger)
    try:
        counts = job.func() or {}
    except Exception:
        run.status = JobRun.Status.FAILED
        run.error = traceback.format_exc()[-8000:]
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        logger.exception("job %s failed", name)
        raise
    run.status = JobRun.Status.SUCCEEDED
    run.counts = {key: (value if isinstance(value, int | float | str) else str(value))
                  for key, value in counts.items()}
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "counts", "finished_at"])
    return run


def schedules_sync(sender, using="default", **kwargs) -> None:
    """post_migrate: create a beat PeriodicTask for each scheduled job lacking one."""
    if sender.label != "core":
        return
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    from config.schedules import SCHEDULES

    for name, spec in SCHEDULES.items():
        if name not in JOBS or PeriodicTask.objects.using(using).filter(name=name).exists():
            continue
        crontab, _ = CrontabSchedule.objects.using(using).get_or_create(
            minute=spec.get("minute", "*"), hour=spec.get("hour", "*"),
            day_of_week=spec.get("day_of_week", "*"), day_of_month=spec.get("day_of_month", "*"),
            month_of_year=spec.get("month_of_year", "*"), timezone="Asia/Shanghai",
        )
        PeriodicTask.objects.using(using).create(
            name=name, task=JOBS[name].task_name, crontab=crontab,
            description=JOBS[name].description,
        )
