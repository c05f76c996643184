from django.utils.translation import gettext_lazy as _

from core.scheduling import scheduled_job
from sales.services import orders_flag_overdue_review
from sales.webhooks import webhook_deliver, webhooks_due_ids


@scheduled_job(name="order_review_deadline",
               description=_("Flag orders still awaiting review past their deadline"))
def order_review_deadline() -> dict[str, int]:
    return {"flagged": orders_flag_overdue_review()}


@scheduled_job(name="webhooks_deliver_due",
               description=_("Deliver webhooks that are due (retries, lost messages)"))
def webhooks_deliver_due() -> dict[str, int]:
    counts = {"delivered": 0, "pending": 0, "failed": 0, "skipped": 0}
    for delivery_id in webhooks_due_ids():
        counts[webhook_deliver(delivery_id=delivery_id)] += 1
    return counts


@scheduled_job(name="idempotency_keys_prune",
               description=_("Delete partner idempotency keys older than 48 hours"))
def idempotency_keys_prune() -> dict[str, int]:
    from sales.services import idempotency_keys_prune as prune

    return {"deleted": prune()}
