"""Signed order webhooks through an outbox (SPEC §9).

`webhook_enqueue` writes a WebhookDelivery row in the order's transaction and
asks Celery to deliver it after commit. Delivery claims the row (a short
lease), POSTs outside any transaction, then records the outcome; failures are
retried with exponential backoff, and the `webhooks_deliver_due` job sweeps
up anything a lost message left behind, so a broker outage loses nothing."""

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from datetime import timedelta
from functools import partial

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from core.audit import audit_record
from sales.enums import WebhookStatus
from sales.models import Order, WebhookDelivery

MAX_ATTEMPTS = 10
LEASE = timedelta(seconds=60)
TIMEOUT_SECONDS = 5


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, … capped at 6 h."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 6 * 3600))


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def order_payload(order: Order, event: str) -> dict:
    return {
        "event": event,
        "occurred_at": timezone.now().isoformat(),
        "order": {
            "number": order.number,
            "external_id": order.external_id,
            "status": order.status,
            "exception_reason": order.exception_reason or None,
            "total": str(order.total),
            "paid_amount": str(order.paid_amount),
            "fulfilment": order.fulfilment,
        },
    }


def _enqueue(*, channel, order: Order | None, event: str, payload: dict
             ) -> WebhookDelivery | None:
    """Write the outbox row (caller's transaction) and deliver after commit."""
    if not channel.webhook_url:
        return None
    delivery = WebhookDelivery.objects.create(channel=channel, order=order, event=event,
                                              payload=payload, next_attempt_at=timezone.now())
    from sales.tasks import webhook_deliver_task

    transaction.on_commit(partial(webhook_deliver_task.delay, delivery.pk))
    return delivery


def webhook_enqueue(*, order: Order, event: str) -> WebhookDelivery | None:
    """Call inside the order's transaction."""
    if not order.channel.webhook_url:
        return None
    return _enqueue(channel=order.channel, order=order, event=event,
                    payload=order_payload(order, event))


def webhook_enqueue_channel_event(*, channel, event: str, payload: dict
                                  ) -> WebhookDelivery | None:
    """A channel-level event (no order), e.g. `stock.changed` from inventory's
    channel stock sync. Call inside the transaction that decided to send it;
    delivery (signing, retries) is the same as for order webhooks."""
    body = {"event": event, "occurred_at": timezone.now().isoformat(), **payload}
    return _enqueue(channel=channel, order=None, event=event, payload=body)


def _claim(delivery_id: int) -> WebhookDelivery | None:
    with transaction.atomic():
        delivery = (WebhookDelivery.objects.select_for_update(skip_locked=True)
                    .select_related("channel")
                    .filter(pk=delivery_id, status=WebhookStatus.PENDING,
                            next_attempt_at__lte=timezone.now()).first())
        if delivery is None:
            return None
        delivery.next_attempt_at = timezone.now() + LEASE
        delivery.save(update_fields=["next_attempt_at"])
        return delivery


def webhook_deliver(*, delivery_id: int) -> str:
    """Try one delivery now. Returns its status afterwards ('skipped' when
    another worker holds it or it is not due)."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return "skipped"
    body = json.dumps(delivery.payload, cls=DjangoJSONEncoder, ensure_ascii=False).encode()
    if not delivery.channel.webhook_url.startswith(("http://", "https://")):
        raise ValueError("webhook URL must be http(s)")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        delivery.channel.webhook_url, data=body, method="POST",
        headers={"Content-Type": "application/json",
                 "X-Signature": sign(delivery.channel.webhook_secret, body),
                 "X-Rongtong-Event": delivery.event,
                 "X-Rongtong-Delivery": str(delivery.pk)})
    error = ""
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            ok = 200 <= response.status < 300
            if not ok:
                error = f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        ok, error = False, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        ok, error = False, f"{exc.__class__.__name__}: {exc}"[:255]
    now = timezone.now()
    delivery.attempts += 1
    if ok:
        delivery.status = WebhookStatus.DELIVERED
        delivery.delivered_at = now
        delivery.last_error = ""
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = WebhookStatus.FAILED
        delivery.last_error = error
    else:
        delivery.next_attempt_at = now + backoff(delivery.attempts)
        delivery.last_error = error
    delivery.save(update_fields=["status", "attempts", "next_attempt_at", "last_error",
                                 "delivered_at"])
    return delivery.status


def webhooks_due_ids(*, limit: int = 500) -> list[int]:
    return list(WebhookDelivery.objects.filter(status=WebhookStatus.PENDING,
                                               next_attempt_at__lte=timezone.now())
                .order_by("next_attempt_at").values_list("pk", flat=True)[:limit])


@transaction.atomic
def webhooks_retry_now(*, deliveries: list[WebhookDelivery], actor) -> int:
    """Make undelivered webhooks due now and hand them to a worker after
    commit. A delivery that had given up gets one more attempt."""
    from sales.tasks import webhook_deliver_task

    count = 0
    now = timezone.now()
    for delivery in (WebhookDelivery.objects.select_for_update()
                     .filter(pk__in=[d.pk for d in deliveries])
                     .exclude(status=WebhookStatus.DELIVERED).order_by("pk")):
        delivery.status = WebhookStatus.PENDING
        delivery.next_attempt_at = now
        delivery.save(update_fields=["status", "next_attempt_at"])
        audit_record(actor=actor, action="webhook.retry", target=delivery,
                     data={"attempts": delivery.attempts})
        transaction.on_commit(partial(webhook_deliver_task.delay, delivery.pk))
        count += 1
    return count
