"""Stock states beyond available/reserved: transfers (in transit), returns
awaiting inspection, quarantine, write-off; each change is a ledger movement
with a reason; the statement reads like a bank statement; the check command
finds drift in every state."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction
from django.utils import translation

from core.errors import DomainError, InvalidTransition
from core.models import AuditEvent
from inventory.allocation import Pick
from inventory.enums import MovementKind, TransferStatus
from inventory.models import StockLevel, StockMovement
from inventory.selectors import stock_ledger_drift, stock_statement
from inventory.services import (
    InsufficientStock,
    stock_consume,
    stock_receive,
    stock_reserve,
    stock_state_change,
)
from inventory.tests.factories import SkuFactory, stocked_sku
from inventory.transfers import transfer_cancel, transfer_create, transfer_receive, transfer_send

pytestmark = pytest.mark.django_db


def book(sku, location) -> dict:
    level = StockLevel.objects.get(sku=sku, location=location)
    return {"on_hand": level.on_hand, "reserved": level.reserved,
            "in_transit": level.in_transit, "returned": level.returned,
            "quarantine": level.quarantine}


def test_transfer_send_and_receive_moves_stock_through_in_transit(warehouse, store,
                                                                  store_sales):
    sku = stocked_sku(location=warehouse, quantity=10)
    transfer = transfer_create(source=warehouse, destination=store, lines={sku: 4},
                               reason="补货", actor=store_sales)
    assert transfer.status == TransferStatus.DRAFT
    assert book(sku, warehouse)["on_hand"] == 10  # a draft moves nothing

    transfer_send(transfer=transfer, actor=store_sales)
    assert book(sku, warehouse)["on_hand"] == 6
    assert book(sku, store) == {"on_hand": 0, "reserved": 0, "in_transit": 4, "returned": 0,
                                "quarantine": 0}

    transfer_receive(transfer=transfer, actor=store_sales)
    assert book(sku, store)["on_hand"] == 4 and book(sku, store)["in_transit"] == 0
    kinds = list(StockMovement.objects.filter(reference=transfer.number)
                 .order_by("pk").values_list("kind", "location_id"))
    assert kinds == [(MovementKind.TRANSFER_OUT, warehouse.pk),
                     (MovementKind.TRANSFER_INBOUND, store.pk),
                     (MovementKind.TRANSFER_RECEIVED, store.pk)]
    assert stock_ledger_drift() == []
    assert set(AuditEvent.objects.filter(target_id=str(transfer.pk))
               .values_list("action", flat=True)) >= {"transfer.create", "transfer.send",
                                                      "transfer.receive"}


def test_short_receipt_needs_a_reason_and_books_the_loss(warehouse, store):
    sku = stocked_sku(location=warehouse, quantity=10)
    transfer = transfer_create(source=warehouse, destination=store, lines={sku: 5})
    transfer_send(transfer=transfer)
    with pytest.raises(DomainError) as exc:
        transfer_receive(transfer=transfer, received={sku.pk: 3})
    assert exc.value.code == "reason_required"
    assert book(sku, store)["in_transit"] == 5  # nothing changed
    transfer_receive(transfer=transfer, received={sku.pk: 3}, reason="两件在途破损丢失")
    assert book(sku, store)["on_hand"] == 3 and book(sku, store)["in_transit"] == 0
    loss = StockMovement.objects.get(kind=MovementKind.TRANSFER_LOSS)
    assert loss.in_transit_delta == -2 and loss.reason == "两件在途破损丢失"
    assert stock_ledger_drift() == []


def test_transfer_refuses_more_than_available_and_changes_nothing(warehouse, store):
    sku = stocked_sku(location=warehouse, quantity=3)
    other = stocked_sku(location=warehouse, quantity=10)
    stock_reserve(demand={sku.pk: 2}, locations=[warehouse.pk])  # only 1 available now
    transfer = transfer_create(source=warehouse, destination=store, lines={sku: 2, other: 1})
    before = StockMovement.objects.count()
    with pytest.raises(InsufficientStock):
        transfer_send(transfer=transfer)
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.DRAFT
    assert StockMovement.objects.count() == before
    assert book(other, warehouse)["on_hand"] == 10


def test_transfer_transitions_are_enforced(warehouse, store):
    sku = stocked_sku(location=warehouse, quantity=3)
    with pytest.raises(DomainError):
        transfer_create(source=warehouse, destination=warehouse, lines={sku: 1})
    transfer = transfer_create(source=warehouse, destination=store, lines={sku: 1})
    with pytest.raises(InvalidTransition):
        transfer_receive(transfer=transfer)  # not sent yet
    transfer_send(transfer=transfer)
    with pytest.raises(InvalidTransition):
        transfer_cancel(transfer=transfer)  # on the road: receive it instead
    with pytest.raises(InvalidTransition):
        transfer_send(transfer=transfer)


def test_returns_quarantine_and_write_off_each_leave_a_reasoned_movement(warehouse,
                                                                         store_sales):
    sku = stocked_sku(location=warehouse, quantity=10)
    stock_state_change(sku=sku, location=warehouse, kind=MovementKind.RETURN_RECEIVED,
                       quantity=3, reason="顾客退货", actor=store_sales)
    assert book(sku, warehouse)["returned"] == 3 and book(sku, warehouse)["on_hand"] == 10
    stock_state_change(sku=sku, location=warehouse, kind=MovementKind.RETURN_RESTOCKED,
                       quantity=2, reason="质检合格", actor=store_sales)
    stock_state_change(sku=sku, location=warehouse, kind=MovementKind.RETURN_QUARANTINED,
                       quantity=1, reason="外观损坏", actor=store_sales)
    stock_state_change(sku=sku, location=warehouse, kind=MovementKind.QUARANTINE, quantity=2,
                       reason="受潮", actor=store_sales)
    stock_state_change(sku=sku, location=warehouse, kind=MovementKind.WRITE_OFF, quantity=2,
                       reason="报废", actor=store_sales)
    assert book(sku, warehouse) == {"on_hand": 10, "reserved": 0, "in_transit": 0,
                                    "returned": 0, "quarantine": 1}
    reasons = list(StockMovement.objects.filter(sku=sku).exclude(kind=MovementKind.RECEIPT)
                   .values_list("reason", flat=True))
    assert all(reasons) and len(reasons) == 5
    assert AuditEvent.objects.filter(action__startswith="stock.").count() == 5
    assert stock_ledger_drift() == []


@pytest.mark.parametrize("kwargs, code", [
    ({"kind": MovementKind.QUARANTINE, "quantity": 0, "reason": "x"}, "invalid_quantity"),
    ({"kind": MovementKind.QUARANTINE, "quantity": 1, "reason": "  "}, "reason_required"),
    ({"kind": MovementKind.CONSUME, "quantity": 1, "reason": "x"}, "invalid_kind"),
    ({"kind": MovementKind.WRITE_OFF, "quantity": 1, "reason": "x"}, "negative_stock"),
    ({"kind": MovementKind.QUARANTINE, "quantity": 9, "reason": "x"}, "insufficient_stock"),
])
def test_bad_state_changes_are_refused_and_change_nothing(warehouse, kwargs, code):
    sku = stocked_sku(location=warehouse, quantity=5)
    stock_reserve(demand={sku.pk: 2}, locations=[warehouse.pk])
    before = (StockMovement.objects.count(), book(sku, warehouse))
    with pytest.raises(DomainError) as exc:
        stock_state_change(sku=sku, location=warehouse, **kwargs)
    assert exc.value.code == code
    assert (StockMovement.objects.count(), book(sku, warehouse)) == before


def test_database_refuses_negative_states(warehouse):
    sku = stocked_sku(location=warehouse, quantity=1)
    for field in ("in_transit", "returned", "quarantine"):
        with pytest.raises(IntegrityError), transaction.atomic():
            StockLevel.objects.filter(sku=sku).update(**{field: -1})


def test_statement_reads_like_a_bank_statement(warehouse, store_sales):
    sku = stocked_sku(location=warehouse, quantity=10)
    picks = stock_reserve(demand={sku.pk: 3}, locations=[warehouse.pk], reason="order A")
    stock_consume(picks=[Pick(p.sku_id, p.location_id, p.quantity) for p in picks],
                  reason="dispatch A")
    stock_receive(sku=sku, location=warehouse, quantity=5, reason="到货")
    stock_state_change(sku=sku, location=warehouse, kind=MovementKind.QUARANTINE, quantity=1,
                       reason="破损", actor=store_sales)
    statement = stock_statement(sku=sku, location=warehouse)
    assert statement.opening["on_hand"] == 0
    assert [line.on_hand_balance for line in statement.lines] == [10, 10, 7, 12, 11]
    assert [(line.on_hand_in, line.on_hand_out) for line in statement.lines] == [
        (10, 0), (0, 0), (0, 3), (5, 0), (0, 1)]
    assert statement.lines[1].reserved_balance == 3 and statement.lines[2].reserved_balance == 0
    assert statement.lines[-1].balances["quarantine"] == 1
    assert statement.closing == book(sku, warehouse)
    assert statement.total_in - statement.total_out == statement.closing["on_hand"]
    # A window: the opening balance carries what came before it.
    later = stock_statement(sku=sku, location=warehouse, start=statement.lines[3].at)
    assert later.opening["on_hand"] == 7 and later.closing == statement.closing


def test_statement_page_and_state_change_form(warehouse, store_client, ecommerce_client,
                                              finance_client):
    sku = stocked_sku(location=warehouse, quantity=4)
    level = StockLevel.objects.get(sku=sku)
    url = f"/admin/inventory/stocklevel/{level.pk}/statement/"
    page = store_client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="opening-balance"' in html and 'id="closing-balance"' in html
    assert ecommerce_client.get(url).status_code == 200  # ecommerce reads inventory
    assert finance_client.get(url).status_code == 403

    change = f"/admin/inventory/stocklevel/{level.pk}/state-change/"
    before = StockMovement.objects.count()
    assert ecommerce_client.post(change, {"kind": "quarantine", "quantity": 1,
                                          "reason": "x"}).status_code == 403
    bad = store_client.post(change, {"kind": "quarantine", "quantity": 99, "reason": "破损"})
    assert bad.status_code == 400
    assert bad.context["form"].non_field_errors()
    assert store_client.post(change, {"kind": "quarantine", "quantity": "abc",
                                      "reason": "破损"}).status_code == 400
    assert StockMovement.objects.count() == before
    done = store_client.post(change, {"kind": "quarantine", "quantity": 1, "reason": "破损"})
    assert done.status_code == 302
    assert book(sku, warehouse)["quarantine"] == 1


def test_check_command_finds_drift_in_every_state(warehouse, store):
    sku = stocked_sku(location=warehouse, quantity=6)
    SkuFactory()
    transfer = transfer_create(source=warehouse, destination=store, lines={sku: 2})
    transfer_send(transfer=transfer)
    call_command("check_stock_ledger", stdout=StringIO())  # clean

    StockLevel.objects.filter(sku=sku, location=store).update(in_transit=5)
    out = StringIO()
    with translation.override("en"), pytest.raises(CommandError, match="1 stock balances"):
        call_command("check_stock_ledger", stdout=out)
    text = out.getvalue()
    assert "(5, 0, 0)" in text and "(2, 0, 0)" in text
    assert "transfers on the road carry 2" in text

    StockLevel.objects.filter(sku=sku, location=store).update(in_transit=2, quarantine=1)
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("check_stock_ledger", stdout=out)
    assert "(2, 0, 1)" in out.getvalue()
