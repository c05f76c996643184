"""One dispatch cycle: a Celery task per active zone, so more workers
dispatch more zones at once (README: How it scales)."""

from __future__ import annotations

import logging

from delivery.dispatch.zone import dispatch_runs_abandoned, dispatch_runs_prune
from delivery.models import Zone

logger = logging.getLogger(__name__)


def dispatch_cycle(*, queue: str | None = None, seconds: float | None = None) -> dict[str, int]:
    """Queue `dispatch_zone_task` for every active zone. With an eager
    Celery (no broker) the zones run here, one after the other; a failing
    zone is recorded on its DispatchRun and does not stop the others."""
    from delivery.tasks import dispatch_zone_task

    abandoned = dispatch_runs_abandoned()
    dispatch_runs_prune()
    queued = failed = 0
    options = {"queue": queue} if queue else {}
    for zone_id in Zone.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True):
        try:
            dispatch_zone_task.apply_async(args=[zone_id], kwargs={"seconds": seconds},
                                           **options)
        except Exception:  # noqa: BLE001 - eager mode: recorded on the zone's run
            logger.exception("dispatch of zone %s failed", zone_id)
            failed += 1
        else:
            queued += 1
    return {"zones_queued": queued, "zones_failed": failed, "runs_abandoned": abandoned}
