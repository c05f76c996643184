from celery import shared_task

from sales.enums import WebhookStatus
from sales.webhooks import backoff, webhook_deliver


@shared_task(bind=True, max_retries=9, ignore_result=True)
def webhook_deliver_task(self, delivery_id: int) -> None:
    """Thin: deliver one webhook; schedule the next try on failure."""
    from sales.models import WebhookDelivery

    status = webhook_deliver(delivery_id=delivery_id)
    if status == WebhookStatus.PENDING:
        attempts = WebhookDelivery.objects.filter(pk=delivery_id).values_list(
            "attempts", flat=True).first() or 1
        if not self.request.is_eager:
            raise self.retry(countdown=backoff(attempts).total_seconds())
