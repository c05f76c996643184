import pytest
from rest_framework.test import APIClient

from inventory.models import Location
from sales.tests.factories import (
    ChannelFactory,
    LocationFactory,
    partner_key,
    stocked_sku,
)


@pytest.fixture
def warehouse(db) -> Location:
    return LocationFactory(code="WH1", name="上海总仓", is_main_warehouse=True)


@pytest.fixture
def channel(db, warehouse):
    channel = ChannelFactory(code="taobao", name="淘宝")
    channel.locations.add(warehouse)
    return channel


@pytest.fixture
def other_channel(db, warehouse):
    channel = ChannelFactory(code="jd", name="京东")
    channel.locations.add(warehouse)
    return channel


@pytest.fixture
def sku(warehouse):
    return stocked_sku(location=warehouse, quantity=10, code="SKU00000")


def partner_client(channel) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {partner_key(channel)}")
    return client


@pytest.fixture
def api(channel) -> APIClient:
    return partner_client(channel)


@pytest.fixture
def other_api(other_channel) -> APIClient:
    return partner_client(other_channel)
