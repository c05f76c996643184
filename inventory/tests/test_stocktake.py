"""Stocktake: a count sheet freezes the book; counts are entered or imported;
variances are against the frozen book, so movements during the count create
no false variance; approval posts the variance as an adjustment on top of
the current book; a posted count is locked (services and database)."""

import threading
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connections, transaction
from openpyxl import Workbook

from core.errors import DomainError, InvalidTransition
from inventory.allocation import Pick
from inventory.enums import MovementKind, StocktakeStatus
from inventory.models import StockLevel, StockMovement, Stocktake, StocktakeLine
from inventory.selectors import stock_ledger_drift
from inventory.services import stock_consume, stock_receive, stock_reserve
from inventory.stocktake import (
    stocktake_approve,
    stocktake_cancel,
    stocktake_counts_record,
    stocktake_reopen,
    stocktake_start,
    stocktake_submit,
    stocktake_variances,
)
from inventory.tests.factories import SkuFactory, category, stocked_sku

pytestmark = pytest.mark.django_db


def on_hand(sku, location) -> int:
    return StockLevel.objects.get(sku=sku, location=location).on_hand


@transaction.atomic
def sell(sku, location, quantity):
    picks = stock_reserve(demand={sku.pk: quantity}, locations=[location.pk])
    stock_consume(picks=[Pick(p.sku_id, p.location_id, p.quantity) for p in picks])


def test_count_against_the_frozen_book_posts_only_the_real_difference(warehouse,
                                                                      store_sales):
    a = stocked_sku(location=warehouse, quantity=10, code="A")
    b = stocked_sku(location=warehouse, quantity=5, code="B")
    sheet = stocktake_start(location=warehouse, actor=store_sales)
    assert dict(sheet.lines.values_list("sku__code", "book_quantity")) == {"A": 10, "B": 5}

    # The shop keeps selling and receiving while people count.
    sell(a, warehouse, 3)
    stock_receive(sku=b, location=warehouse, quantity=4)

    # Counted as of the freeze: A is two short, B is right.
    stocktake_counts_record(stocktake=sheet, counts={a.pk: 8, b.pk: 5}, actor=store_sales)
    variances = list(stocktake_variances(sheet))
    assert [(line.sku.code, line.variance_units) for line in variances] == [("A", -2)]

    stocktake_submit(stocktake=sheet, actor=store_sales)
    stocktake_approve(stocktake=sheet, actor=store_sales)
    assert on_hand(a, warehouse) == 10 - 3 - 2
    assert on_hand(b, warehouse) == 5 + 4
    adjustment = StockMovement.objects.get(kind=MovementKind.STOCKTAKE)
    assert (adjustment.sku_id, adjustment.on_hand_delta) == (a.pk, -2)
    assert adjustment.reference == sheet.number
    assert stock_ledger_drift() == []


def test_scope_by_category_and_lifecycle(warehouse, store_sales):
    apparel = category("apparel", "服饰")
    shirt = stocked_sku(location=warehouse, quantity=3, code="SHIRT",
                        product__category_node=apparel)
    stocked_sku(location=warehouse, quantity=3, code="MUG")
    sheet = stocktake_start(location=warehouse, category=apparel, actor=store_sales)
    assert list(sheet.lines.values_list("sku__code", flat=True)) == ["SHIRT"]
    with pytest.raises(DomainError) as exc:
        stocktake_submit(stocktake=sheet)
    assert exc.value.code == "uncounted_lines"
    with pytest.raises(DomainError) as exc:
        stocktake_counts_record(stocktake=sheet, counts={SkuFactory().pk: 1})
    assert exc.value.code == "not_on_count_sheet"
    with pytest.raises(DomainError):
        stocktake_counts_record(stocktake=sheet, counts={shirt.pk: -1})
    stocktake_counts_record(stocktake=sheet, counts={shirt.pk: 3})
    stocktake_submit(stocktake=sheet)
    with pytest.raises(InvalidTransition):
        stocktake_counts_record(stocktake=sheet, counts={shirt.pk: 2})
    stocktake_reopen(stocktake=sheet, reason="recount")
    stocktake_counts_record(stocktake=sheet, counts={shirt.pk: 2})
    stocktake_submit(stocktake=sheet)
    stocktake_approve(stocktake=sheet, actor=store_sales)
    sheet.refresh_from_db()
    assert sheet.status == StocktakeStatus.POSTED and sheet.posted_by == store_sales
    for call in (lambda: stocktake_approve(stocktake=sheet),
                 lambda: stocktake_reopen(stocktake=sheet),
                 lambda: stocktake_cancel(stocktake=sheet),
                 lambda: stocktake_counts_record(stocktake=sheet, counts={shirt.pk: 9})):
        with pytest.raises(InvalidTransition):
            call()
    assert on_hand(shirt, warehouse) == 2


@pytest.mark.postgres
def test_database_locks_a_posted_count(warehouse):
    sku = stocked_sku(location=warehouse, quantity=2)
    sheet = stocktake_start(location=warehouse)
    stocktake_counts_record(stocktake=sheet, counts={sku.pk: 2})
    stocktake_submit(stocktake=sheet)
    stocktake_approve(stocktake=sheet)
    with pytest.raises(DatabaseError), transaction.atomic():
        StocktakeLine.objects.filter(stocktake=sheet).update(counted_quantity=7)
    with pytest.raises(DatabaseError), transaction.atomic():
        Stocktake.objects.filter(pk=sheet.pk).update(status=StocktakeStatus.COUNTING)
    with pytest.raises(DatabaseError), transaction.atomic():
        sheet.delete()
    assert StocktakeLine.objects.get(stocktake=sheet).counted_quantity == 2


def test_approval_refuses_to_leave_less_than_reserved(warehouse):
    sku = stocked_sku(location=warehouse, quantity=5)
    sheet = stocktake_start(location=warehouse)
    with transaction.atomic():
        stock_reserve(demand={sku.pk: 4}, locations=[warehouse.pk])
    stocktake_counts_record(stocktake=sheet, counts={sku.pk: 2})  # 3 lost
    stocktake_submit(stocktake=sheet)
    with pytest.raises(DomainError) as exc:
        stocktake_approve(stocktake=sheet)
    assert exc.value.code == "negative_stock"
    sheet.refresh_from_db()
    assert sheet.status == StocktakeStatus.SUBMITTED
    assert on_hand(sku, warehouse) == 5


def _xlsx(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_import_counts_preview_errors_and_apply(warehouse, store_client, ecommerce_client):
    a = stocked_sku(location=warehouse, quantity=10, code="A")
    b = stocked_sku(location=warehouse, quantity=5, code="B")
    sheet = stocktake_start(location=warehouse)
    url = f"/admin/inventory/stocktake/{sheet.pk}/import-counts/"

    bad = SimpleUploadedFile("counts.csv", b"sku,counted\nA,9\nB,x\nZZZ,1\n")
    response = store_client.post(url, {"file": bad})
    assert response.status_code == 400
    rows = response.context["rows"]
    assert [bool(r["errors"]) for r in rows] == [False, True, True]
    assert response.context["token"] is None
    assert not sheet.lines.filter(counted_quantity__isnull=False).exists()

    garbage = SimpleUploadedFile("counts.xlsx", b"not a spreadsheet")
    response = store_client.post(url, {"file": garbage})
    assert response.status_code == 400 and response.context["form"].errors

    good = SimpleUploadedFile("counts.xlsx", _xlsx([["sku", "counted"], ["A", 9], ["B", 5]]))
    response = store_client.post(url, {"file": good})
    assert response.status_code == 200 and response.context["token"]
    assert ecommerce_client.post(url, {"apply": response.context["token"]}).status_code == 403
    applied = store_client.post(url, {"apply": response.context["token"]})
    assert applied.status_code == 302
    assert dict(sheet.lines.values_list("sku_id", "counted_quantity")) == {a.pk: 9, b.pk: 5}
    tampered = store_client.post(url, {"apply": response.context["token"] + "x"})
    assert tampered.status_code == 200


def test_admin_flow_and_variance_page(warehouse, store_client, ecommerce_client):
    sku = stocked_sku(location=warehouse, quantity=4, code="A")
    response = store_client.post("/admin/inventory/stocktake/add/", {
        "location": warehouse.pk, "category": "", "note": "月盘"})
    assert response.status_code == 302
    sheet = Stocktake.objects.get()
    assert sheet.lines.count() == 1 and sheet.frozen_at
    assert ecommerce_client.post("/admin/inventory/stocktake/add/", {
        "location": warehouse.pk}).status_code == 403
    stocktake_counts_record(stocktake=sheet, counts={sku.pk: 3})
    page = store_client.get(f"/admin/inventory/stocktake/{sheet.pk}/variances/")
    assert page.status_code == 200 and "-1" in page.content.decode()
    assert ecommerce_client.get(f"/admin/inventory/stocktake/{sheet.pk}/variances/") \
        .status_code == 200
    stocktake_submit(stocktake=sheet)
    refused = ecommerce_client.post(f"/admin/inventory/stocktake/{sheet.pk}/approve/",
                                    {"_form_submitted": "True", "reason": "x"})
    assert refused.status_code == 403
    done = store_client.post(f"/admin/inventory/stocktake/{sheet.pk}/approve/",
                             {"_form_submitted": "True", "reason": "ok"})
    assert done.status_code == 200 and done.headers.get("HX-Redirect")
    sheet.refresh_from_db()
    assert sheet.status == StocktakeStatus.POSTED and on_hand(sku, warehouse) == 3


def test_counts_api(warehouse, store_client, ecommerce_client):
    sku = stocked_sku(location=warehouse, quantity=4, code="A")
    sheet = stocktake_start(location=warehouse)
    url = f"/api/v1/staff/inventory/stocktakes/{sheet.number}/counts/"
    body = {"counts": [{"sku": "A", "counted": 3}]}
    assert ecommerce_client.post(url, body, content_type="application/json").status_code == 403
    assert sheet.lines.get().counted_quantity is None
    bad = store_client.post(url, {"counts": [{"sku": "NOPE", "counted": 1}]},
                            content_type="application/json")
    assert bad.status_code == 400 and "counts.0.sku" in bad.json()["fields"]
    bad = store_client.post(url, {"counts": [{"sku": "A", "counted": -1}]},
                            content_type="application/json")
    assert bad.status_code == 400 and "counts.0.counted" in bad.json()["fields"]
    twice = store_client.post(url, {"counts": [{"sku": "A", "counted": 1},
                                               {"sku": "A", "counted": 2}]},
                              content_type="application/json")
    assert twice.status_code == 400
    ok = store_client.post(url, body, content_type="application/json")
    assert ok.status_code == 200 and ok.json() == {"recorded": 1}
    assert sheet.lines.get().counted_quantity == 3
    _ = sku


# --- concurrency (PostgreSQL) -------------------------------------------------------------

@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_approval_under_concurrent_sales_posts_the_right_adjustment(warehouse):
    """Sales run in threads while the count is approved: whatever the
    interleaving, the final book is the count plus what happened after the
    freeze, and the adjustment is exactly counted − frozen book."""
    sku = stocked_sku(location=warehouse, quantity=100)
    sheet = stocktake_start(location=warehouse)
    sell(sku, warehouse, 10)  # during the count
    stocktake_counts_record(stocktake=sheet, counts={sku.pk: 97})  # 3 missing at freeze
    stocktake_submit(stocktake=sheet)

    sales, workers = 20, 8
    barrier = threading.Barrier(workers + 1)
    errors = []

    def sell_some(n):
        try:
            barrier.wait(timeout=10)
            for _ in range(n):
                with transaction.atomic():
                    sell(sku, warehouse, 1)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    def approve():
        try:
            barrier.wait(timeout=10)
            stocktake_approve(stocktake=sheet)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sell_some, args=(sales // workers + (i < sales % workers),))
               for i in range(workers)]
    threads.append(threading.Thread(target=approve))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    adjustments = list(StockMovement.objects.filter(kind=MovementKind.STOCKTAKE)
                       .values_list("on_hand_delta", flat=True))
    assert adjustments == [-3]
    assert on_hand(sku, warehouse) == 100 - 10 - sales - 3
    assert stock_ledger_drift() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_freeze_waits_for_a_sale_in_flight(warehouse):
    """A sale that holds the row when the count starts is in the frozen book."""
    sku = stocked_sku(location=warehouse, quantity=10)
    started, release = threading.Event(), threading.Event()
    frozen = {}

    def slow_sale():
        try:
            with transaction.atomic():
                sell(sku, warehouse, 2)
                started.set()
                release.wait(timeout=10)
        finally:
            connections.close_all()

    def freeze():
        try:
            started.wait(timeout=10)
            sheet = stocktake_start(location=warehouse)
            frozen["book"] = sheet.lines.get().book_quantity
        finally:
            connections.close_all()

    seller = threading.Thread(target=slow_sale)
    counter = threading.Thread(target=freeze)
    seller.start()
    counter.start()
    started.wait(timeout=10)
    counter.join(timeout=0.5)
    assert counter.is_alive()  # waiting for the sale's row lock
    release.set()
    seller.join(timeout=10)
    counter.join(timeout=10)
    assert frozen["book"] == 8


def test_import_counts_refuses_infinite_huge_and_fractional_counts(warehouse, store_client):
    stocked_sku(location=warehouse, quantity=10, code="A")
    stocked_sku(location=warehouse, quantity=5, code="B")
    stocked_sku(location=warehouse, quantity=5, code="C")
    stocked_sku(location=warehouse, quantity=5, code="D")
    sheet = stocktake_start(location=warehouse)
    url = f"/admin/inventory/stocktake/{sheet.pk}/import-counts/"
    upload = SimpleUploadedFile("counts.csv", b"sku,counted\nA,inf\nB,1e400\nC,2.5\nD,3.0\n")
    response = store_client.post(url, {"file": upload})
    assert response.status_code == 400
    assert [bool(r["errors"]) for r in response.context["rows"]] == [True, True, True, False]
    assert not sheet.lines.filter(counted_quantity__isnull=False).exists()
