from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from core.models import JobRun


def job_runs_prune(*, older_than_days: int | None = None) -> int:
    """Delete finished job-run records past the retention period."""
    days = older_than_days if older_than_days is not None else settings.JOB_RUN_RETENTION_DAYS
    cutoff = timezone.now() - timedelta(days=days)
    deleted, _ = JobRun.objects.filter(started_at__lt=cutoff).exclude(
        status=JobRun.Status.RUNNING
    ).delete()
    return deleted
