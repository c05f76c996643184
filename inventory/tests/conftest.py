import pytest

from inventory.tests.factories import LocationFactory, StoreFactory, client_for, staff


@pytest.fixture
def warehouse(db):
    return LocationFactory(code="WH1", name="上海总仓", is_main_warehouse=True)


@pytest.fixture
def store(db):
    return StoreFactory(location__code="ST1", location__name="南京西路店").location


@pytest.fixture
def store_sales(db):
    return staff("store_sales")


@pytest.fixture
def store_client(store_sales):
    return client_for(store_sales)


@pytest.fixture
def ecommerce_client(db):
    return client_for(staff("ecommerce"))


@pytest.fixture
def finance_client(db):
    return client_for(staff("finance"))
