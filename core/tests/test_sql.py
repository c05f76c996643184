"""core.sql: the write batch (one statement for a transaction's closing
writes on PostgreSQL) keeps every write and never lets a read miss one."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from core import sql
from inventory.models import StockLevel, StockMovement
from inventory.services import InsufficientStock, stock_receive, stock_reserve
from sales.tests.factories import LocationFactory, SkuFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def stocked(db):
    location = LocationFactory(code="WH-SQL", is_main_warehouse=True)
    sku = SkuFactory()
    stock_receive(sku=sku, location=location, quantity=5, reason="test")
    return sku, location


def level(sku, location) -> StockLevel:
    return StockLevel.objects.get(sku=sku, location=location)


def test_waiting_writes_go_as_one_statement_at_the_end(stocked):
    sku, location = stocked
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        with sql.write_batch():
            stock_reserve(demand={sku.pk: 2}, locations=[location.pk], reason="a")
            assert level(sku, location).reserved == 0  # an ORM read sees nothing yet
        writes = [q["sql"] for q in queries.captured_queries
                  if "inventory_stockmovement" in q["sql"]]
    assert len(writes) == 1 and writes[0].startswith("WITH ")
    assert level(sku, location).reserved == 2
    assert StockMovement.objects.filter(sku=sku, kind="reserve").count() == 1


def test_a_second_reservation_in_one_batch_reads_the_first(stocked):
    """The lock of the second reservation (a core.sql read) sends the first
    one's waiting writes: both count, and the last units are not sold twice."""
    sku, location = stocked
    with transaction.atomic(), sql.write_batch():
        stock_reserve(demand={sku.pk: 3}, locations=[location.pk], reason="a")
        with pytest.raises(InsufficientStock):
            stock_reserve(demand={sku.pk: 3}, locations=[location.pk], reason="b")
        stock_reserve(demand={sku.pk: 2}, locations=[location.pk], reason="c")
    assert level(sku, location).reserved == 5
    assert sorted(StockMovement.objects.filter(sku=sku, kind="reserve")
                  .values_list("reserved_delta", flat=True)) == [2, 3]


def test_two_updates_of_one_row_are_never_in_one_statement(stocked):
    sku, location = stocked
    pk = level(sku, location).pk
    table = StockLevel._meta.db_table
    update = f'UPDATE {table} SET "reserved" = "reserved" + 1 WHERE "id" = %s'  # noqa: S608
    with transaction.atomic(), sql.write_batch():
        sql.write(update, [pk], touches=[(table, pk)])
        sql.write(update, [pk], touches=[(table, pk)])
    assert level(sku, location).reserved == 2


def test_nothing_is_written_when_the_block_fails(stocked):
    sku, location = stocked
    with pytest.raises(RuntimeError), transaction.atomic(), sql.write_batch():
        stock_reserve(demand={sku.pk: 2}, locations=[location.pk], reason="a")
        raise RuntimeError("boom")
    assert level(sku, location).reserved == 0
    assert not StockMovement.objects.filter(sku=sku, kind="reserve").exists()
