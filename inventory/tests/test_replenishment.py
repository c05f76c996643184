"""Safety stock and reorder points (by hand or from sales), the
`inventory_alerts` job (one open alert per SKU-location, closed when stock
recovers, never duplicated), replenishment suggestions and their approval
into transfer orders and purchase requests."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connections, transaction
from django.utils import timezone

from core.errors import DomainError, InvalidTransition
from core.models import JobRun
from core.scheduling import JOBS
from inventory.allocation import Pick
from inventory.enums import (
    AlertKind,
    AlertStatus,
    MovementKind,
    PolicyMethod,
    PurchaseStatus,
    SuggestionKind,
    SuggestionStatus,
    TransferStatus,
)
from inventory.models import (
    PurchaseRequest,
    ReplenishmentSuggestion,
    StockAlert,
    StockLevel,
    StockMovement,
    StockPolicy,
)
from inventory.replenishment import (
    inventory_alerts_run,
    purchase_request_order,
    purchase_request_receive,
    reorder_levels,
    replenishment_quantity,
    sales_trend,
    stock_policies_compute,
    stock_policy_set,
    suggestions_approve,
    suggestions_dismiss,
)
from inventory.selectors import stock_ledger_drift
from inventory.services import stock_consume, stock_receive, stock_reserve
from inventory.tests.factories import stocked_sku
from inventory.transfers import transfer_receive, transfer_send

pytestmark = pytest.mark.django_db


@transaction.atomic
def sell(sku, location, quantity, *, at=None):
    picks = stock_reserve(demand={sku.pk: quantity}, locations=[location.pk])
    stock_consume(picks=[Pick(p.sku_id, p.location_id, p.quantity) for p in picks])
    if at is not None:
        StockMovement.objects.filter(sku=sku, location=location,
                                     kind__in=[MovementKind.RESERVE, MovementKind.CONSUME],
                                     created_at__gt=timezone.now() - timedelta(minutes=1)) \
            .update(created_at=at)


# --- strategies ------------------------------------------------------------------------------

def test_reorder_levels_from_weekly_sales():
    flat = reorder_levels(weekly_sales=[14] * 8, lead_time_days=7)
    assert (flat.safety_stock, flat.reorder_point, flat.avg_daily_sales) == (0, 14,
                                                                             Decimal("2.000"))
    bumpy = reorder_levels(weekly_sales=[0, 28, 0, 28, 0, 28, 0, 28], lead_time_days=7)
    # mean 14/week (2/day), σ = 14 → safety = ceil(1.65 × 14 × 1) = 24; ROP = 24 + 14
    assert (bumpy.safety_stock, bumpy.reorder_point) == (24, 38)
    assert reorder_levels(weekly_sales=[0] * 8, lead_time_days=14).reorder_point == 0
    assert reorder_levels(weekly_sales=[], lead_time_days=7).reorder_point == 0


def test_trend_and_quantity():
    assert sales_trend(recent=20, prior=10) == Decimal("2.00")
    assert sales_trend(recent=40, prior=10) == Decimal("2.00")  # clamped
    assert sales_trend(recent=1, prior=10) == Decimal("0.50")
    assert sales_trend(recent=0, prior=0) == Decimal("1.00")
    assert sales_trend(recent=3, prior=0) == Decimal("2.00")
    # 56 sold over 8 weeks (1/day), flat; 7 + 7 days to cover, safety 3 → 17, less 2 on hand
    assert replenishment_quantity(recent=28, prior=28, lead_time_days=7, review_days=7,
                                  safety_stock=3, reorder_point=10, available=2, in_transit=0,
                                  on_order=0) == 15
    # nothing sold: lift above the reorder point
    assert replenishment_quantity(recent=0, prior=0, lead_time_days=7, review_days=7,
                                  safety_stock=0, reorder_point=5, available=1, in_transit=0,
                                  on_order=0) == 5
    # enough on the way: nothing to order
    assert replenishment_quantity(recent=28, prior=28, lead_time_days=7, review_days=7,
                                  safety_stock=3, reorder_point=10, available=2, in_transit=10,
                                  on_order=10) == 0


# --- policies ----------------------------------------------------------------------------------

def test_policy_by_hand_and_computed_from_sales(warehouse, store_sales):
    sku = stocked_sku(location=warehouse, quantity=500)
    with pytest.raises(DomainError):
        stock_policy_set(sku=sku, location=warehouse, safety_stock=10, reorder_point=5)
    policy = stock_policy_set(sku=sku, location=warehouse, safety_stock=5, reorder_point=12,
                              actor=store_sales)
    assert policy.method == PolicyMethod.MANUAL
    assert stock_policies_compute() == 0  # manual policies are left alone

    now = timezone.now()
    # 4 full weeks back: 7, 14, 7, 14 units (the current week is not counted)
    monday = timezone.localtime(now).date() - timedelta(days=timezone.localtime(now).weekday())
    for weeks_ago, units in ((1, 7), (2, 14), (3, 7), (4, 14)):
        day = timezone.make_aware(timezone.datetime.combine(
            monday - timedelta(weeks=weeks_ago) + timedelta(days=2), timezone.datetime.min.time()
        )) + timedelta(hours=12)
        sell(sku, warehouse, units, at=day)
    sell(sku, warehouse, 50)  # this week: not in the history
    StockPolicy.objects.filter(pk=policy.pk).update(method=PolicyMethod.COMPUTED,
                                                    history_weeks=4, lead_time_days=7)
    assert stock_policies_compute(now=now) == 1
    policy.refresh_from_db()
    expected = reorder_levels(weekly_sales=[14, 7, 14, 7], lead_time_days=7)
    assert (policy.safety_stock, policy.reorder_point) == (expected.safety_stock,
                                                           expected.reorder_point)
    assert policy.avg_daily_sales == Decimal("1.500") and policy.computed_at


def test_policy_constraints_hold_in_the_database(warehouse):
    sku = stocked_sku(location=warehouse, quantity=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockPolicy.objects.create(sku=sku, location=warehouse, safety_stock=5, reorder_point=2)


# --- the alerts job ------------------------------------------------------------------------

def alerts(**filters):
    return list(StockAlert.objects.filter(**filters).values_list("sku__code", "kind", "status"))


def test_alerts_open_escalate_close_and_never_duplicate(warehouse, store):
    low = stocked_sku(location=store, quantity=3, code="LOW")
    out = stocked_sku(location=store, quantity=1, code="OUT")
    fine = stocked_sku(location=store, quantity=50, code="FINE")
    for sku in (low, out, fine):
        stock_policy_set(sku=sku, location=store, safety_stock=2, reorder_point=5)
    sell(out, store, 1)

    first = inventory_alerts_run()
    assert first["alerts_opened"] == 2
    assert sorted(alerts(status=AlertStatus.OPEN)) == [("LOW", AlertKind.LOW_STOCK, "open"),
                                                       ("OUT", AlertKind.OUT_OF_STOCK, "open")]
    second = inventory_alerts_run()
    assert second["alerts_opened"] == 0 and second["suggestions_drafted"] == 0
    assert StockAlert.objects.count() == 2
    assert ReplenishmentSuggestion.objects.filter(status=SuggestionStatus.DRAFT).count() == 2

    sell(low, store, 3)  # low → out
    assert inventory_alerts_run()["alerts_escalated"] == 1
    assert StockAlert.objects.get(sku=low, status=AlertStatus.OPEN).kind == \
        AlertKind.OUT_OF_STOCK

    stock_receive(sku=out, location=store, quantity=20)  # recovers
    result = inventory_alerts_run()
    assert result["alerts_closed"] == 1 and result["suggestions_dismissed"] == 1
    closed = StockAlert.objects.get(sku=out)
    assert closed.status == AlertStatus.CLOSED and closed.closed_at and closed.available == 20
    assert ReplenishmentSuggestion.objects.get(sku=out).status == SuggestionStatus.DISMISSED

    sell(out, store, 18)  # low again: a new alert, the old one stays closed
    inventory_alerts_run()
    assert StockAlert.objects.filter(sku=out).count() == 2
    assert StockAlert.objects.filter(sku=out, status=AlertStatus.OPEN).count() == 1


def test_one_open_alert_per_sku_location_is_a_database_rule(warehouse):
    sku = stocked_sku(location=warehouse, quantity=1)
    now = timezone.now()
    StockAlert.objects.create(sku=sku, location=warehouse, kind=AlertKind.LOW_STOCK,
                              available=1, reorder_point=5, opened_at=now, checked_at=now)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockAlert.objects.create(sku=sku, location=warehouse, kind=AlertKind.LOW_STOCK,
                                  available=1, reorder_point=5, opened_at=now, checked_at=now)


def test_job_is_registered_scheduled_and_recorded(warehouse):
    from config.schedules import SCHEDULES

    assert "inventory_alerts" in JOBS and "inventory_alerts" in SCHEDULES
    sku = stocked_sku(location=warehouse, quantity=1)
    stock_policy_set(sku=sku, location=warehouse, safety_stock=0, reorder_point=3)
    call_command("run_job", "inventory_alerts")
    call_command("run_job", "inventory_alerts")
    runs = list(JobRun.objects.filter(name="inventory_alerts").order_by("pk"))
    assert [run.counts["alerts_opened"] for run in runs] == [1, 0]
    assert StockAlert.objects.count() == 1


def test_suggestions_use_the_trend_and_the_warehouse(warehouse, store, store_sales):
    sku = stocked_sku(location=warehouse, quantity=200, code="TEE")
    stock_receive(sku=sku, location=store, quantity=90)
    now = timezone.now()
    # 8 weeks: 1 unit a day for the first 4, 2 a day for the last 4 (trend 2.0, clamped)
    for day in range(56):
        sell(sku, store, 1 if day >= 28 else 2, at=now - timedelta(days=day, hours=1))
    level = StockLevel.objects.get(sku=sku, location=store)
    assert level.on_hand == 90 - 28 * 2 - 28
    stock_policy_set(sku=sku, location=store, safety_stock=4, reorder_point=10,
                     lead_time_days=3, review_days=7)
    stock_policy_set(sku=sku, location=warehouse, safety_stock=10, reorder_point=20)
    inventory_alerts_run(now=now)
    suggestion = ReplenishmentSuggestion.objects.get(location=store)
    level.refresh_from_db()
    expected = replenishment_quantity(recent=56, prior=28, lead_time_days=3, review_days=7,
                                      safety_stock=4, reorder_point=10,
                                      available=level.available, in_transit=0, on_order=0)
    assert suggestion.quantity == expected
    assert suggestion.kind == SuggestionKind.TRANSFER and suggestion.source == warehouse
    assert suggestion.trend == Decimal("2.00")

    result = suggestions_approve(suggestions=[suggestion], actor=store_sales)
    transfer = result.transfers[0]
    assert transfer.status == TransferStatus.DRAFT
    assert list(transfer.lines.values_list("sku_id", "quantity")) == [(sku.pk, expected)]
    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.APPROVED and suggestion.transfer == transfer
    # Already on order: the next run drafts nothing more for this SKU-location.
    inventory_alerts_run()
    assert not ReplenishmentSuggestion.objects.filter(status=SuggestionStatus.DRAFT).exists()
    with pytest.raises(InvalidTransition):
        suggestions_approve(suggestions=[suggestion], actor=store_sales)
    transfer_send(transfer=transfer)
    transfer_receive(transfer=transfer)
    assert inventory_alerts_run()["alerts_closed"] == 1
    assert stock_ledger_drift() == []


def test_purchase_when_the_warehouse_cannot_spare_it(warehouse, store, store_sales):
    sku = stocked_sku(location=store, quantity=2, code="RARE")
    stock_policy_set(sku=sku, location=store, safety_stock=1, reorder_point=4)
    inventory_alerts_run()
    suggestion = ReplenishmentSuggestion.objects.get()
    assert suggestion.kind == SuggestionKind.PURCHASE and suggestion.source is None
    result = suggestions_approve(suggestions=[suggestion], actor=store_sales,
                                 quantities={suggestion.pk: 10})
    request = result.purchase_requests[0]
    assert request.lines.get().quantity == 10
    with pytest.raises(InvalidTransition):  # not ordered yet
        purchase_request_receive(request=request, actor=store_sales)
    purchase_request_order(request=request, actor=store_sales)
    purchase_request_receive(request=request, actor=store_sales, received={sku.pk: 9})
    request.refresh_from_db()
    assert request.status == PurchaseStatus.RECEIVED
    assert StockLevel.objects.get(sku=sku, location=store).on_hand == 11
    assert StockMovement.objects.filter(reference=request.number).get().on_hand_delta == 9


def test_suggestion_admin_and_api_permissions(warehouse, store, store_client,
                                              ecommerce_client, finance_client):
    sku = stocked_sku(location=store, quantity=1, code="S1")
    stock_policy_set(sku=sku, location=store, safety_stock=0, reorder_point=3)
    inventory_alerts_run()
    suggestion = ReplenishmentSuggestion.objects.get()
    api = f"/api/v1/staff/inventory/suggestions/{suggestion.pk}/approve/"
    assert ecommerce_client.get("/api/v1/staff/inventory/suggestions/").status_code == 200
    assert finance_client.get("/api/v1/staff/inventory/suggestions/").status_code == 403
    assert ecommerce_client.post(api, {}, content_type="application/json").status_code == 403
    assert store_client.post(api, {"quantity": 0},
                             content_type="application/json").status_code == 400
    assert store_client.post(api, {"quantity": "x"},
                             content_type="application/json").status_code == 400
    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.DRAFT and not PurchaseRequest.objects.exists()
    done = store_client.post(api, {"quantity": 6}, content_type="application/json")
    assert done.status_code == 200 and done.json()["status"] == "approved"
    assert done.json()["purchase_request"]
    again = store_client.post(api, {}, content_type="application/json")
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
    # admin action, refused for a department without the buyer permission
    sku2 = stocked_sku(location=store, quantity=1, code="S2")
    stock_policy_set(sku=sku2, location=store, safety_stock=0, reorder_point=3)
    inventory_alerts_run()
    draft = ReplenishmentSuggestion.objects.get(status=SuggestionStatus.DRAFT)
    ecommerce_client.post("/admin/inventory/replenishmentsuggestion/", {
        "action": "dismiss_selected", "index": 0, "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == SuggestionStatus.DRAFT
    store_client.post("/admin/inventory/replenishmentsuggestion/", {
        "action": "approve_selected", "index": 0, "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == SuggestionStatus.APPROVED
    alerts_api = ecommerce_client.get("/api/v1/staff/inventory/alerts/",
                                      {"status": "open"}).json()
    assert alerts_api["count"] == 2
    assert suggestions_dismiss(suggestions=[], actor=None) == 0


# --- concurrency (PostgreSQL) -----------------------------------------------------------------

@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_open_each_alert_once(warehouse, store):
    skus = [stocked_sku(location=store, quantity=i % 4 + 1, code=f"C{i:03d}") for i in range(1, 41)]
    for sku in skus:
        stock_policy_set(sku=sku, location=store, safety_stock=1, reorder_point=5)
    workers = 4
    barrier = threading.Barrier(workers)
    results, errors = [], []

    def run():
        try:
            barrier.wait(timeout=10)
            results.append(inventory_alerts_run())
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(r["alerts_opened"] for r in results) == 40
    assert StockAlert.objects.filter(status=AlertStatus.OPEN).count() == 40
    assert ReplenishmentSuggestion.objects.filter(status=SuggestionStatus.DRAFT).count() == 40
    assert sum(r["suggestions_drafted"] for r in results) == 40


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_without_the_job_lock_the_unique_index_still_holds(warehouse, store):
    """Belt and braces: even if two runs overlap without the advisory lock,
    the partial unique indexes keep one open alert and one draft per
    SKU-location (the inserts skip conflicts)."""
    from unittest import mock

    skus = [stocked_sku(location=store, quantity=1, code=f"N{i:03d}") for i in range(30)]
    for sku in skus:
        stock_policy_set(sku=sku, location=store, safety_stock=1, reorder_point=5)
    workers = 4
    barrier = threading.Barrier(workers)
    results, errors = [], []

    def run():
        try:
            barrier.wait(timeout=10)
            results.append(inventory_alerts_run())
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    with mock.patch("inventory.replenishment.job_lock"):
        threads = [threading.Thread(target=run) for _ in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert errors == []
    assert StockAlert.objects.filter(status=AlertStatus.OPEN).count() == 30
    assert ReplenishmentSuggestion.objects.filter(status=SuggestionStatus.DRAFT).count() == 30
    assert sum(r["alerts_opened"] for r in results) == 30
