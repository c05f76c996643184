import pytest

from delivery.tests.factories import CourierFactory, Shop, ZoneFactory


@pytest.fixture
def zone(db):
    return ZoneFactory(code="pd", name="浦东", districts=["浦东新区"])


@pytest.fixture
def shop(db):
    return Shop()


@pytest.fixture
def courier(zone):
    return CourierFactory(zones=[zone])
