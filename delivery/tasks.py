"""Celery tasks: take ids, call one service, bounded retries. Safe to run
twice: a zone's dispatch re-reads the database and writes only what is still
needed (delivery.dispatch.zone)."""

from celery import shared_task
from django.db import OperationalError

from delivery.dispatch.zone import dispatch_zone


@shared_task(bind=True, max_retries=2, ignore_result=True, acks_late=True)
def dispatch_zone_task(self, zone_id: int, seconds: float | None = None) -> None:
    """Dispatch one zone; its DispatchRun row records start, end, counts, error."""
    try:
        dispatch_zone(zone_id=zone_id, seconds=seconds)
    except OperationalError as exc:  # a lock timeout or a lost connection: try again
        if self.request.is_eager:
            raise
        raise self.retry(exc=exc, countdown=30) from exc
