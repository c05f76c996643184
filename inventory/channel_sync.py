"""Channel stock sync (002 二(三)3(3) 數據對接): available-to-sell per channel,
pulled by partners (`GET stock/`, SPEC §9) and pushed to channels with a
webhook URL when it changes materially.

Available-to-sell for a channel is `sales.selectors.channel_stock`: on hand −
reserved over the channel's serving locations, less the channel's safety
buffer for the SKU, never below zero (in-transit, returned and quarantined
units are not sellable, so they never count).

"Materially" (`stock_change_is_material`): the first figure a channel gets;
any change that crosses zero (sold out / back in stock); any change that
crosses or stays within the low band (≤ `LOW_STOCK_UNITS`, where every unit
counts against overselling); otherwise a change of at least
`MATERIAL_CHANGE` (20 %) of the figure last pushed. Small drifts of a
well-stocked SKU are left to the partners' pull.

The `channel_stock_sync` job compares in SQL, per channel, the current
figure with the last pushed one (`ChannelStockSnapshot`) and returns only
the SKUs that differ; it then writes the webhook outbox rows (batches of
`BATCH` items) and the new snapshots in one transaction, so a figure is
recorded as pushed exactly when its webhook is queued."""

from decimal import Decimal

from django.db import transaction
from django.db.models import F, IntegerField, OuterRef, Q, Subquery
from django.utils import timezone

from inventory.locks import job_lock
from inventory.models import ChannelStockSnapshot

LOW_STOCK_UNITS = 5
MATERIAL_CHANGE = Decimal("0.20")
BATCH = 500
SYNC_LOCK_KEY = 74_010_002
EVENT = "stock.changed"


def stock_change_is_material(*, previous: int | None, current: int,
                             low: int = LOW_STOCK_UNITS,
                             threshold: Decimal = MATERIAL_CHANGE) -> bool:
    if previous is None:
        return True
    if previous == current:
        return False
    if (previous <= 0) != (current <= 0):
        return True
    if previous <= low or current <= low:
        return True
    return abs(current - previous) >= threshold * previous


def channel_stock_changes(*, channel) -> list[dict]:
    """SKUs whose available-to-sell differs from the figure last pushed."""
    from sales.selectors import channel_stock

    last = Subquery(ChannelStockSnapshot.objects.filter(channel=channel, sku=OuterRef("pk"))
                    .values("available")[:1], output_field=IntegerField())
    qs = (channel_stock(channel=channel).annotate(last=last)
          .filter(Q(last__isnull=True) | ~Q(available=F("last"))))
    return list(qs.values("pk", "code", "name", "available", "last"))


def channel_stock_sync(*, channels=None, now=None) -> dict[str, int]:
    """Push material changes to every active channel with a webhook URL."""
    from sales.models import Channel
    from sales.webhooks import webhook_enqueue_channel_event

    now = now or timezone.now()
    if channels is None:
        channels = list(Channel.objects.filter(is_active=True).exclude(webhook_url=""))
    pushed_items = webhooks = 0
    for channel in channels:
        with transaction.atomic():
            job_lock(SYNC_LOCK_KEY)
            changed = [row for row in channel_stock_changes(channel=channel)
                       if stock_change_is_material(previous=row["last"],
                                                   current=row["available"])]
            if not changed:
                continue
            items = [{"sku": row["code"], "name": row["name"], "available": row["available"]}
                     for row in changed]
            for start in range(0, len(items), BATCH):
                webhook_enqueue_channel_event(channel=channel, event=EVENT,
                                              payload={"items": items[start:start + BATCH]})
                webhooks += 1
            ChannelStockSnapshot.objects.bulk_create(
                [ChannelStockSnapshot(channel=channel, sku_id=row["pk"],
                                      available=row["available"], pushed_at=now)
                 for row in changed],
                update_conflicts=True, unique_fields=["channel", "sku"],
                update_fields=["available", "pushed_at"], batch_size=1000)
            pushed_items += len(changed)
    return {"channels": len(channels), "items_pushed": pushed_items, "webhooks": webhooks}
