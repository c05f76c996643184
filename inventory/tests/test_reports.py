"""Reports: turnover and days of cover per SKU-location, stock-out rate,
slow movers, and the XLSX export read back with openpyxl."""

from datetime import timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from django.db import transaction
from django.utils import timezone
from openpyxl import load_workbook

from inventory.allocation import Pick
from inventory.enums import MovementKind
from inventory.models import StockMovement
from inventory.reports import (
    inventory_report_xlsx,
    location_summaries,
    slow_movers,
    turnover_by_location,
    turnover_rows,
)
from inventory.services import stock_consume, stock_receive, stock_reserve
from inventory.tests.factories import SkuFactory

pytestmark = pytest.mark.django_db


def backdate(sku, location, when, kinds):
    StockMovement.objects.filter(sku=sku, location=location, kind__in=kinds,
                                 created_at__gt=timezone.now() - timedelta(minutes=1)) \
        .update(created_at=when)


@transaction.atomic
def sell(sku, location, quantity, when):
    picks = stock_reserve(demand={sku.pk: quantity}, locations=[location.pk])
    stock_consume(picks=[Pick(p.sku_id, p.location_id, p.quantity) for p in picks])
    backdate(sku, location, when, [MovementKind.RESERVE, MovementKind.CONSUME])


@pytest.fixture
def history(warehouse):
    """Over the last 30 days: FAST sells 40 of 60; SLOW sells nothing; GONE
    sold out 10 days ago."""
    now = timezone.now()
    fast = SkuFactory(code="FAST", unit_cost=Decimal("10.00"))
    slow = SkuFactory(code="SLOW", unit_cost=Decimal("50.00"))
    gone = SkuFactory(code="GONE", unit_cost=Decimal("5.00"))
    for sku, qty in ((fast, 60), (slow, 8), (gone, 4)):
        stock_receive(sku=sku, location=warehouse, quantity=qty)
        backdate(sku, warehouse, now - timedelta(days=60), [MovementKind.RECEIPT])
    for day in range(20):
        sell(fast, warehouse, 2, now - timedelta(days=day, hours=2))
    sell(gone, warehouse, 4, now - timedelta(days=10, hours=2))
    return now


def test_turnover_cover_and_stockouts(warehouse, history):
    rows = {r.sku_code: r for r in turnover_rows(days=30, now=history)}
    fast = rows["FAST"]
    assert (fast.opening_on_hand, fast.on_hand, fast.sold) == (60, 20, 40)
    assert fast.average_on_hand == Decimal("40.0")
    assert fast.turnover == Decimal("1.00")
    assert fast.days_of_cover == Decimal("15.0")  # 20 ÷ (40 / 30)
    assert fast.stockout_days == 0 and fast.stock_value == Decimal("200.00")
    gone = rows["GONE"]
    assert gone.on_hand == 0 and gone.sold == 4 and gone.days_of_cover == Decimal("0.0")
    # the day it sold out and every day since, today included
    assert gone.stockout_days == 11 and gone.stockout_rate == Decimal("0.367")
    slow = rows["SLOW"]
    assert slow.sold == 0 and slow.turnover == Decimal("0.00") and slow.days_of_cover is None
    assert [r.sku_code for r in slow_movers(list(rows.values()))] == ["SLOW"]
    summary = location_summaries(list(rows.values()))[0]
    assert summary.sold == 44 and summary.sku_locations == 3
    by_location = turnover_by_location(days=30, now=history)
    assert by_location[0]["sold"] == 44


def test_xlsx_export_reads_back(warehouse, history):
    content = inventory_report_xlsx(days=30, now=history)
    book = load_workbook(BytesIO(content))
    assert len(book.sheetnames) == 4
    turnover = book.worksheets[0]
    header = [cell.value for cell in turnover[1]]
    rows = {row[0]: dict(zip(header, row, strict=True))
            for row in turnover.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == {"FAST", "SLOW", "GONE"}
    fast = list(rows["FAST"].values())
    assert fast[7] == 40 and float(fast[9]) == 1.0 and float(fast[10]) == 15.0
    slow_sheet = book.worksheets[1]
    assert [row[0] for row in slow_sheet.iter_rows(min_row=2, values_only=True)] == ["SLOW"]
    stockout = book.worksheets[2]
    values = list(stockout.iter_rows(min_row=2, values_only=True))
    assert values[0][0] == warehouse.code and values[0][3] == 44


def test_report_pages_and_export_permissions(warehouse, history, store_client,
                                             ecommerce_client, finance_client, client):
    page = store_client.get("/inventory/reports/", {"days": 30})
    assert page.status_code == 200 and "SLOW" in page.content.decode()
    assert store_client.get("/inventory/reports/", {"days": "abc"}).status_code == 400
    assert store_client.get("/inventory/reports/", {"location": 999999}).status_code == 400
    export = ecommerce_client.get("/inventory/reports.xlsx", {"days": 30})
    assert export.status_code == 200
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    assert load_workbook(BytesIO(export.content)).worksheets[0].max_row == 4
    assert finance_client.get("/inventory/reports.xlsx").status_code == 403
    assert client.get("/inventory/reports/").status_code == 302  # to the login page
