"""Channel stock sync: available-to-sell per channel after its safety
buffers, the same figure partners pull from `GET stock/`, pushed by webhook
only when it changes materially."""

from unittest import mock

import pytest
from django.db import transaction

from inventory.allocation import Pick
from inventory.channel_sync import channel_stock_sync, stock_change_is_material
from inventory.models import ChannelStockSnapshot
from inventory.services import stock_consume, stock_receive, stock_reserve
from inventory.tests.factories import ChannelFactory, stocked_sku
from sales.models import ChannelSkuBuffer, WebhookDelivery
from sales.tests.factories import partner_key
from sales.webhooks import sign, webhook_deliver

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("previous, current, material", [
    (None, 0, True),          # first figure a channel gets
    (100, 100, False),
    (100, 95, False),         # small drift of a well-stocked SKU
    (100, 80, True),          # 20 %
    (100, 130, True),
    (10, 6, True),            # 40 %
    (10, 9, False),
    (8, 5, True),             # crosses into the low band (≤ 5)
    (5, 4, True),             # within the low band every unit counts
    (3, 0, True),             # sold out
    (0, 12, True),            # back in stock
])
def test_materiality(previous, current, material):
    assert stock_change_is_material(previous=previous, current=current) is material


@transaction.atomic
def sell(sku, location, quantity):
    picks = stock_reserve(demand={sku.pk: quantity}, locations=[location.pk])
    stock_consume(picks=[Pick(p.sku_id, p.location_id, p.quantity) for p in picks])


@pytest.fixture
def channel(warehouse):
    channel = ChannelFactory(code="taobao", webhook_url="https://partner.example/hook",
                             webhook_secret="s3cret")
    channel.locations.add(warehouse)
    return channel


def pushed_items(**filters) -> list[dict]:
    return [item for delivery in WebhookDelivery.objects.filter(event="stock.changed",
                                                                **filters).order_by("pk")
            for item in delivery.payload["items"]]


def test_sync_pushes_material_changes_only(warehouse, channel,
                                           django_capture_on_commit_callbacks):
    big = stocked_sku(location=warehouse, quantity=100, code="BIG")
    small = stocked_sku(location=warehouse, quantity=8, code="SMALL")
    ChannelSkuBuffer.objects.create(channel=channel, sku=small, buffer=2)
    silent = ChannelFactory(code="jd")  # no webhook URL: partners pull only
    silent.locations.add(warehouse)

    with django_capture_on_commit_callbacks() as callbacks:
        first = channel_stock_sync()
    assert first == {"channels": 1, "items_pushed": 2, "webhooks": 1}
    assert len(callbacks) == 1  # the delivery is queued after commit
    assert sorted((i["sku"], i["available"]) for i in pushed_items()) == [("BIG", 100),
                                                                          ("SMALL", 6)]
    delivery = WebhookDelivery.objects.get()
    assert delivery.order is None and delivery.channel == channel
    assert channel_stock_sync()["items_pushed"] == 0  # nothing changed

    sell(big, warehouse, 5)       # 100 → 95: not material
    sell(small, warehouse, 2)     # 6 → 4 (after the buffer): low band
    assert channel_stock_sync()["items_pushed"] == 1
    assert pushed_items()[-1] == {"sku": "SMALL", "name": small.name, "available": 4}
    assert ChannelStockSnapshot.objects.get(channel=channel, sku=big).available == 100

    sell(big, warehouse, 20)      # 100 → 75 against the last push: material
    channel_stock_sync()
    assert pushed_items()[-1]["available"] == 75

    stock_receive(sku=small, location=warehouse, quantity=1)  # 5 → 5 after buffer? 6-2
    channel_stock_sync()
    # The pull API reports the same figures the push did.
    client_key = partner_key(channel)
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {client_key}")
    pulled = {row["sku"]: row["available"] for row in api.get("/api/v1/partner/stock/")
              .json()["results"]}
    snapshots = dict(ChannelStockSnapshot.objects.filter(channel=channel)
                     .values_list("sku__code", "available"))
    assert pulled["SMALL"] == snapshots["SMALL"] == 5
    assert not WebhookDelivery.objects.filter(channel=silent).exists()


def test_channel_event_delivery_is_signed(warehouse, channel):
    stocked_sku(location=warehouse, quantity=3, code="X")
    with mock.patch("sales.tasks.webhook_deliver_task.delay"):
        channel_stock_sync()
    delivery = WebhookDelivery.objects.get()
    sent = {}

    class Reply:
        status = 200

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def fake_urlopen(request, timeout):
        sent["body"], sent["headers"] = request.data, dict(request.header_items())
        return Reply()

    with mock.patch("urllib.request.urlopen", fake_urlopen):
        assert webhook_deliver(delivery_id=delivery.pk) == "delivered"
    assert sent["headers"]["X-signature"] == sign("s3cret", sent["body"])
    assert b'"stock.changed"' in sent["body"] and b'"X"' in sent["body"]


def test_sync_job_is_scheduled():
    from config.schedules import SCHEDULES
    from core.scheduling import JOBS

    assert "channel_stock_sync" in JOBS and "channel_stock_sync" in SCHEDULES
