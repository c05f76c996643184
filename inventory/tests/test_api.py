"""The inventory part of the staff API: permissions (anonymous, a department
that may not read inventory, readers, the owner) and bad input (400 with
field errors, never a 500)."""

import pytest
from django.utils import timezone

from inventory.enums import MovementKind
from inventory.replenishment import inventory_alerts_run, stock_policy_set
from inventory.services import stock_receive, stock_state_change
from inventory.tests.factories import stocked_sku

pytestmark = pytest.mark.django_db

STATEMENT = "/api/v1/staff/inventory/stock-statement/"


def test_statement(warehouse, store_sales, ecommerce_client, finance_client, client):
    sku = stocked_sku(location=warehouse, quantity=5, code="A1")
    stock_receive(sku=sku, location=warehouse, quantity=3, reason="到货")
    stock_state_change(sku=sku, location=warehouse, kind=MovementKind.QUARANTINE, quantity=2,
                       reason="破损", actor=store_sales)
    assert client.get(STATEMENT, {"sku": "A1", "location": "WH1"}).status_code == 403
    assert finance_client.get(STATEMENT, {"sku": "A1", "location": "WH1"}).status_code == 403
    data = ecommerce_client.get(STATEMENT, {"sku": "A1", "location": "WH1"}).json()
    assert [line["on_hand_balance"] for line in data["lines"]] == [5, 8, 6]
    assert data["lines"][-1]["other"] == {"quarantine": 2}
    assert data["closing"] == {"on_hand": 6, "reserved": 0, "in_transit": 0, "returned": 0,
                               "quarantine": 2}
    assert data["total_in"] == 8 and data["total_out"] == 2

    missing = ecommerce_client.get(STATEMENT, {"sku": "A1"})
    assert missing.status_code == 400 and "location" in missing.json()["fields"]
    assert ecommerce_client.get(STATEMENT, {"sku": "NOPE", "location": "WH1"}).status_code == 404
    bad_date = ecommerce_client.get(STATEMENT, {"sku": "A1", "location": "WH1",
                                                "start": "yesterday"})
    assert bad_date.status_code == 400 and "start" in bad_date.json()["fields"]
    now = timezone.now().isoformat()
    backwards = ecommerce_client.get(STATEMENT, {"sku": "A1", "location": "WH1",
                                                 "start": now, "end": now})
    assert backwards.status_code == 400


def test_alerts_list_and_filters(warehouse, ecommerce_client, finance_client):
    sku = stocked_sku(location=warehouse, quantity=1, code="A1")
    stock_policy_set(sku=sku, location=warehouse, safety_stock=0, reorder_point=3)
    inventory_alerts_run()
    data = ecommerce_client.get("/api/v1/staff/inventory/alerts/", {"status": "open"}).json()
    assert data["count"] == 1 and data["results"][0]["sku"] == "A1"
    assert data["results"][0]["kind"] == "low_stock"
    assert ecommerce_client.get("/api/v1/staff/inventory/alerts/",
                                {"status": "bogus"}).status_code == 400
    assert finance_client.get("/api/v1/staff/inventory/alerts/").status_code == 403
    assert ecommerce_client.post("/api/v1/staff/inventory/alerts/", {}).status_code in (403, 405)
