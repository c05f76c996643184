from django.db.models import QuerySet

from core.models import JobRun


def job_runs_recent(*, names: list[str] | None = None, limit: int = 10) -> QuerySet[JobRun]:
    qs = JobRun.objects.all()
    if names is not None:
        qs = qs.filter(name__in=names)
    return qs[:limit]


def job_last_runs() -> dict[str, JobRun]:
    """The newest run of every job name (one query)."""
    from django.db.models import OuterRef, Subquery

    newest = JobRun.objects.filter(name=OuterRef("name")).order_by("-started_at", "-pk")
    runs = JobRun.objects.filter(pk=Subquery(newest.values("pk")[:1]))
    return {run.name: run for run in runs}
