"""Inventory staff screens: store sales owns them, the reading departments
see them, finance does not; actions go through the services; refused or
bad input changes nothing and never answers 500."""

import pytest
from django.db.models import Sum

from core.models import AuditEvent
from inventory.enums import PolicyMethod, TransferStatus
from inventory.models import StockLevel, StockMovement, StockPolicy, TransferOrder
from inventory.replenishment import inventory_alerts_run, stock_policy_set
from inventory.tests.factories import category, stocked_sku
from inventory.transfers import transfer_create

pytestmark = pytest.mark.django_db

SCREENS = ["category", "keyword", "product", "sku", "stocklevel", "stockmovement",
           "openingstock", "transferorder", "stocktake", "purchaserequest", "stockpolicy",
           "stockalert", "replenishmentsuggestion", "channelstocksnapshot"]


def state() -> tuple:
    stock = StockLevel.objects.aggregate(on_hand=Sum("on_hand"), in_transit=Sum("in_transit"))
    return (stock["on_hand"], stock["in_transit"], StockMovement.objects.count(),
            TransferOrder.objects.count(),
            list(TransferOrder.objects.values_list("status", flat=True)))


def test_every_screen_opens_for_owners_and_readers(warehouse, store, store_client,
                                                   ecommerce_client, finance_client, client):
    sku = stocked_sku(location=warehouse, quantity=5)
    stock_policy_set(sku=sku, location=warehouse, safety_stock=1, reorder_point=9)
    inventory_alerts_run()
    transfer_create(source=warehouse, destination=store, lines={sku: 1})
    category("apparel", "服饰", required=("材质",))
    for screen in SCREENS:
        url = f"/admin/inventory/{screen}/"
        assert store_client.get(url).status_code == 200, url
        assert ecommerce_client.get(url).status_code == 200, url
        assert finance_client.get(url).status_code == 403, url
        assert client.get(url).status_code == 302, url
    transfer = TransferOrder.objects.get()
    assert store_client.get(f"/admin/inventory/transferorder/{transfer.pk}/change/") \
        .status_code == 200
    assert store_client.get("/admin/inventory/stocktake/add/").status_code == 200
    assert ecommerce_client.get("/admin/inventory/transferorder/add/").status_code == 403


def test_transfer_through_the_admin(warehouse, store, store_client, ecommerce_client):
    sku = stocked_sku(location=warehouse, quantity=10, code="T1")
    form = {"source": warehouse.pk, "destination": store.pk, "reason": "补货",
            "lines-TOTAL_FORMS": 1, "lines-INITIAL_FORMS": 0,
            "lines-0-sku": sku.pk, "lines-0-quantity": 4}
    same = {**form, "destination": warehouse.pk}
    assert store_client.post("/admin/inventory/transferorder/add/", same).status_code == 200
    zero = {**form, "lines-0-quantity": 0}
    assert store_client.post("/admin/inventory/transferorder/add/", zero).status_code == 200
    assert not TransferOrder.objects.exists()
    assert store_client.post("/admin/inventory/transferorder/add/", form).status_code == 302
    transfer = TransferOrder.objects.get()
    assert transfer.number.startswith("TO") and transfer.lines.get().quantity == 4
    assert AuditEvent.objects.filter(action="transfer.create").exists()

    before = state()
    ecommerce_client.post("/admin/inventory/transferorder/", {
        "action": "send_selected", "index": 0, "_selected_action": [transfer.pk]})
    assert ecommerce_client.post(f"/admin/inventory/transferorder/{transfer.pk}/send/", {
        "_form_submitted": "True"}).status_code == 403
    assert state() == before

    store_client.post("/admin/inventory/transferorder/", {
        "action": "send_selected", "index": 0, "_selected_action": [transfer.pk]})
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.SENT
    assert StockLevel.objects.get(sku=sku, location=store).in_transit == 4

    # Staff note what arrived (more than sent is a field error), then receive.
    line = transfer.lines.get()
    change = {"source": warehouse.pk, "destination": store.pk, "reason": "补货",
              "lines-TOTAL_FORMS": 1, "lines-INITIAL_FORMS": 1, "lines-0-id": line.pk,
              "lines-0-transfer": transfer.pk, "lines-0-received_quantity": 9}
    assert store_client.post(f"/admin/inventory/transferorder/{transfer.pk}/change/",
                             change).status_code == 200
    line.refresh_from_db()
    assert line.received_quantity is None
    response = store_client.post(f"/admin/inventory/transferorder/{transfer.pk}/receive/", {
        "_form_submitted": "True", "reason": ""})
    assert response.status_code == 200
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.RECEIVED
    assert StockLevel.objects.get(sku=sku, location=store).on_hand == 4


def test_policy_form(warehouse, store_client):
    sku = stocked_sku(location=warehouse, quantity=5)
    bad = store_client.post("/admin/inventory/stockpolicy/add/", {
        "sku": sku.pk, "location": warehouse.pk, "method": PolicyMethod.MANUAL,
        "safety_stock": 9, "reorder_point": 3, "lead_time_days": 7, "review_days": 7,
        "history_weeks": 8})
    assert bad.status_code == 200 and not StockPolicy.objects.exists()
    ok = store_client.post("/admin/inventory/stockpolicy/add/", {
        "sku": sku.pk, "location": warehouse.pk, "method": PolicyMethod.MANUAL,
        "safety_stock": 3, "reorder_point": 9, "lead_time_days": 7, "review_days": 7,
        "history_weeks": 8})
    assert ok.status_code == 302
    assert StockPolicy.objects.get().reorder_point == 9
    assert AuditEvent.objects.filter(action="stock_policy.set").exists()
    computed = store_client.post(f"/admin/inventory/stockpolicy/{StockPolicy.objects.get().pk}"
                                 "/change/", {
                                     "sku": sku.pk, "location": warehouse.pk,
                                     "method": PolicyMethod.COMPUTED, "safety_stock": 3,
                                     "reorder_point": 9, "lead_time_days": 7,
                                     "review_days": 7, "history_weeks": 99})
    assert computed.status_code == 200  # 99 weeks is refused by the form (constraint)


def test_management_approves_but_does_not_edit(warehouse, store):
    from inventory.enums import StocktakeStatus, SuggestionStatus
    from inventory.models import ReplenishmentSuggestion
    from inventory.stocktake import stocktake_counts_record, stocktake_start, stocktake_submit
    from inventory.tests.factories import client_for, staff

    boss = client_for(staff("management", "boss"))
    sku = stocked_sku(location=warehouse, quantity=4)
    sheet = stocktake_start(location=warehouse)
    stocktake_counts_record(stocktake=sheet, counts={sku.pk: 3})
    stocktake_submit(stocktake=sheet)
    assert boss.get("/admin/inventory/transferorder/add/").status_code == 403
    response = boss.post(f"/admin/inventory/stocktake/{sheet.pk}/approve/",
                         {"_form_submitted": "True", "reason": "同意"})
    assert response.status_code == 200
    sheet.refresh_from_db()
    assert sheet.status == StocktakeStatus.POSTED

    low = stocked_sku(location=store, quantity=1)
    stock_policy_set(sku=low, location=store, safety_stock=0, reorder_point=3)
    inventory_alerts_run()
    suggestion = ReplenishmentSuggestion.objects.get()
    done = boss.post(f"/api/v1/staff/inventory/suggestions/{suggestion.pk}/approve/", {},
                     content_type="application/json")
    assert done.status_code == 200
    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.APPROVED
