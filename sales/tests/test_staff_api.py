"""Staff REST API through HTTP: who may read and act (department permissions,
session only — partner keys never get in), that every refused write leaves
the order, its stock and its timeline untouched, and that the actions go
through the order services."""

from datetime import timedelta
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db.models import Sum
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import AuditEvent
from inventory.models import StockLevel, StockMovement
from inventory.services import stock_receive
from sales.enums import ExceptionReason, OrderStatus
from sales.models import Order, OrderEvent
from sales.services import LineInput, OrderInput, order_advance, order_create
from sales.tests.conftest import partner_client
from sales.tests.factories import StoreFactory

pytestmark = pytest.mark.django_db

BASE = "/api/v1/staff/"


# --- helpers -------------------------------------------------------------------------

def department_client(department: str | None) -> APIClient:
    client = APIClient()
    if department is not None:
        user = get_user_model().objects.create_user(f"u_{department}", password="pw-12345678",
                                                    is_staff=True)
        user.groups.add(Group.objects.get(name=department))
        client.force_login(user)
    return client


def make_order(channel, sku, n: int = 1, *, quantity: int = 2, paid: Decimal | None = None,
               fulfilment: str = "express") -> Order:
    """Through the intake service; customer and address differ per `n` so the
    duplicate and fraud checks stay out of the way."""
    total = sku.price * quantity
    order, _created = order_create(channel=channel, data=OrderInput(
        external_id=f"EXT-{n}", customer_name=f"客户{n}", customer_phone=f"1390000{n:04d}",
        customer_email="", lines=[LineInput(sku=sku, quantity=quantity, unit_price=sku.price)],
        province="上海市", city="上海市", district="浦东新区", line1=f"世纪大道 {n} 号",
        fulfilment=fulfilment, paid_amount=total if paid is None else paid))
    return order


def snapshot(order: Order) -> dict:
    order.refresh_from_db()
    stock = StockLevel.objects.aggregate(on_hand=Sum("on_hand"), reserved=Sum("reserved"))
    return {"status": order.status, "exception_reason": order.exception_reason,
            "stock": (stock["on_hand"], stock["reserved"]),
            "events": OrderEvent.objects.filter(order=order).count(),
            "movements": StockMovement.objects.count(), "audit": AuditEvent.objects.count()}


@pytest.fixture
def confirmed(channel, sku) -> Order:
    order = make_order(channel, sku, 1)
    assert order.status == OrderStatus.CONFIRMED
    return order


@pytest.fixture
def flagged(channel, sku) -> Order:
    """In exception: paid less than the total."""
    order = make_order(channel, sku, 2, paid=Decimal("1.00"))
    assert (order.status, order.exception_reason) == (OrderStatus.EXCEPTION,
                                                      ExceptionReason.PAYMENT_MISMATCH)
    return order


@pytest.fixture
def ecommerce() -> APIClient:
    return department_client("ecommerce")


# --- who may read --------------------------------------------------------------------

def read_urls(order: Order, sku) -> list[str]:
    return [f"{BASE}orders/", f"{BASE}orders/{order.number}/", f"{BASE}channels/",
            f"{BASE}channels/{order.channel.code}/", f"{BASE}skus/", f"{BASE}skus/{sku.code}/",
            f"{BASE}stock-levels/"]


def test_anonymous_reads_nothing(confirmed, sku):
    for url in read_urls(confirmed, sku):
        response = APIClient().get(url)
        assert response.status_code in (401, 403), url
        assert response.json()["code"] == "not_authenticated"


def test_partner_key_reaches_no_staff_endpoint(confirmed, channel, sku):
    client = partner_client(channel)
    for url in read_urls(confirmed, sku):
        response = client.get(url)
        assert response.status_code in (401, 403), url
        assert "results" not in response.json() and "number" not in response.json()
    for action in ("cancel", "retry-review", "approve"):
        before = snapshot(confirmed)
        response = client.post(f"{BASE}orders/{confirmed.number}/{action}/", {}, format="json")
        assert response.status_code in (401, 403)
        assert snapshot(confirmed) == before


def test_department_without_view_permission_is_refused(confirmed, sku):
    client = department_client("tech_support")  # owns core only
    for url in read_urls(confirmed, sku):
        response = client.get(url)
        assert response.status_code == 403, url
        assert response.json()["code"] == "permission_denied"


def test_finance_reads_orders_but_not_stock(confirmed, sku):
    client = department_client("finance")  # views sales, not inventory
    assert client.get(f"{BASE}orders/").status_code == 200
    assert client.get(f"{BASE}channels/").status_code == 200
    assert client.get(f"{BASE}skus/").status_code == 403
    assert client.get(f"{BASE}skus/{sku.code}/").status_code == 403
    assert client.get(f"{BASE}stock-levels/").status_code == 403


@pytest.mark.parametrize("department", ["ecommerce", "store_sales", "delivery",
                                        "customer_service", "management", "supervision"])
def test_departments_that_view_sales_and_inventory_read_everything(department, confirmed, sku):
    client = department_client(department)
    for url in read_urls(confirmed, sku):
        assert client.get(url).status_code == 200, url


# --- who may act ---------------------------------------------------------------------

@pytest.mark.parametrize("department", [None, "delivery", "finance", "customer_service",
                                        "management", "tech_support"])
@pytest.mark.parametrize("action", ["cancel", "retry-review", "approve"])
def test_refused_actions_change_nothing(department, action, confirmed, flagged):
    client = department_client(department)
    for order in (confirmed, flagged):
        before = snapshot(order)
        response = client.post(f"{BASE}orders/{order.number}/{action}/", {"reason": "试试"},
                               format="json")
        assert response.status_code in ((401, 403) if department is None else (403,))
        assert snapshot(order) == before


def test_approve_needs_the_resolve_permission(flagged):
    user = get_user_model().objects.create_user("clerk", password="pw-12345678")
    user.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="sales", codename__in=["view_order", "change_order"]))
    client = APIClient()
    client.force_login(user)
    before = snapshot(flagged)
    response = client.post(f"{BASE}orders/{flagged.number}/approve/", {}, format="json")
    assert response.status_code == 403
    assert snapshot(flagged) == before
    # change_order alone is enough to run the review again
    response = client.post(f"{BASE}orders/{flagged.number}/retry-review/", {}, format="json")
    assert response.status_code == 200
    assert response.json()["exception_reason"] == ExceptionReason.PAYMENT_MISMATCH


def test_session_post_without_csrf_token_is_refused(confirmed):
    client = APIClient(enforce_csrf_checks=True)
    user = get_user_model().objects.create_user("csrf", password="pw-12345678")
    user.groups.add(Group.objects.get(name="ecommerce"))
    client.force_login(user)
    before = snapshot(confirmed)
    response = client.post(f"{BASE}orders/{confirmed.number}/cancel/", {}, format="json")
    assert response.status_code == 403
    assert snapshot(confirmed) == before


# --- the actions ---------------------------------------------------------------------

def test_cancel_releases_stock_and_is_audited(ecommerce, confirmed, sku):
    assert StockLevel.objects.get(sku=sku).reserved == 2
    response = ecommerce.post(f"{BASE}orders/{confirmed.number}/cancel/",
                              {"reason": "顾客电话取消"}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == OrderStatus.CANCELLED
    assert body["timeline"][-1]["to_status"] == OrderStatus.CANCELLED
    assert body["timeline"][-1]["reason"] == "顾客电话取消"
    assert body["timeline"][-1]["actor_label"] == "u_ecommerce"
    level = StockLevel.objects.get(sku=sku)
    assert (level.on_hand, level.reserved) == (10, 0)
    audit = AuditEvent.objects.get(action="order.cancel")
    assert audit.actor.username == "u_ecommerce"
    assert audit.target_id == str(confirmed.pk)


def test_cancel_after_dispatch_is_409_and_changes_nothing(ecommerce, confirmed):
    for step in (OrderStatus.PICKING, OrderStatus.PACKED, OrderStatus.DISPATCHED):
        order_advance(order=confirmed, to_status=step, actor_label="test")
    before = snapshot(confirmed)
    response = ecommerce.post(f"{BASE}orders/{confirmed.number}/cancel/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "order_not_cancellable"
    assert snapshot(confirmed) == before


def test_bad_reason_is_400_and_changes_nothing(ecommerce, confirmed):
    before = snapshot(confirmed)
    response = ecommerce.post(f"{BASE}orders/{confirmed.number}/cancel/", {"reason": "x" * 256},
                              format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"code", "message", "fields"}
    assert "reason" in response.json()["fields"]
    assert snapshot(confirmed) == before


def test_retry_review_after_restock_confirms(ecommerce, channel, sku, warehouse):
    order = make_order(channel, sku, 3, quantity=15)
    assert order.exception_reason == ExceptionReason.INSUFFICIENT_STOCK
    stock_receive(sku=sku, location=warehouse, quantity=10, reason="补货")
    response = ecommerce.post(f"{BASE}orders/{order.number}/retry-review/", {}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == OrderStatus.CONFIRMED
    assert response.json()["allocations"] == [{"sku": sku.code, "location": warehouse.code,
                                               "quantity": 15}]
    assert StockLevel.objects.get(sku=sku).reserved == 15
    assert AuditEvent.objects.filter(action="order.retry_review").count() == 1


def test_approve_accepts_a_flagged_order_and_reserves(ecommerce, flagged, sku):
    response = ecommerce.post(f"{BASE}orders/{flagged.number}/approve/",
                              {"reason": "已核实付款"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == OrderStatus.CONFIRMED
    assert response.json()["exception_reason"] is None
    assert StockLevel.objects.get(sku=sku).reserved == 2
    assert AuditEvent.objects.get(action="order.approve").reason == "已核实付款"


def test_approve_is_only_for_exceptions(ecommerce, confirmed):
    before = snapshot(confirmed)
    response = ecommerce.post(f"{BASE}orders/{confirmed.number}/approve/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"
    assert snapshot(confirmed) == before


def test_actions_answer_404_for_unknown_orders(ecommerce):
    for action in ("cancel", "retry-review", "approve"):
        response = ecommerce.post(f"{BASE}orders/RT000000NOPE/{action}/", {}, format="json")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    assert ecommerce.post(f"{BASE}orders/bad%20number/cancel/", {}).status_code == 404


def test_orders_are_read_only_collections(ecommerce, confirmed):
    assert ecommerce.post(f"{BASE}orders/", {}, format="json").status_code == 405
    response = ecommerce.patch(f"{BASE}orders/{confirmed.number}/", {"status": "completed"},
                               format="json")
    assert response.status_code == 405
    assert Order.objects.get(pk=confirmed.pk).status == OrderStatus.CONFIRMED


# --- reading -------------------------------------------------------------------------

def test_order_list_is_paginated_and_filtered(ecommerce, channel, other_channel, sku):
    a = make_order(channel, sku, 1, quantity=1)
    b = make_order(other_channel, sku, 2, quantity=1)
    c = make_order(channel, sku, 3, quantity=1, paid=Decimal("0.00"))
    Order.objects.filter(pk=a.pk).update(created_at=timezone.now() - timedelta(days=60))
    boundary = quote((timezone.now() - timedelta(days=30)).isoformat())

    def numbers(query: str) -> set[str]:
        response = ecommerce.get(f"{BASE}orders/{query}")
        assert response.status_code == 200, response.json()
        assert set(response.json()) == {"count", "next", "previous", "results"}
        return {row["number"] for row in response.json()["results"]}

    assert numbers("") == {a.number, b.number, c.number}
    assert numbers("?channel=jd") == {b.number}
    assert numbers("?status=exception") == {c.number}
    assert numbers("?status=exception&status=confirmed") == {a.number, b.number, c.number}
    assert numbers("?exception_reason=payment_mismatch") == {c.number}
    assert numbers("?fulfilment=express") == {a.number, b.number, c.number}
    assert numbers("?fulfilment=pickup") == set()
    assert numbers(f"?created_before={boundary}") == {a.number}
    assert numbers(f"?created_after={boundary}") == {b.number, c.number}
    assert ecommerce.get(f"{BASE}orders/?status=nonsense").status_code == 400
    assert ecommerce.get(f"{BASE}orders/?created_after=yesterday").status_code == 400
    page = ecommerce.get(f"{BASE}orders/?page_size=2").json()
    assert (page["count"], len(page["results"])) == (3, 2) and page["next"]


def test_overdue_filter(ecommerce, channel, sku, flagged):
    Order.objects.filter(pk=flagged.pk).update(review_deadline=timezone.now() - timedelta(hours=1))
    fresh = make_order(channel, sku, 5, paid=Decimal("0.00"))
    response = ecommerce.get(f"{BASE}orders/?overdue=true")
    assert [row["number"] for row in response.json()["results"]] == [flagged.number]
    response = ecommerce.get(f"{BASE}orders/?overdue=false")
    assert fresh.number in {row["number"] for row in response.json()["results"]}


def test_order_detail_has_customer_allocations_and_timeline(ecommerce, confirmed, warehouse):
    body = ecommerce.get(f"{BASE}orders/{confirmed.number}/").json()
    assert body["customer"] == {"name": "客户1", "phone": "13900000001", "email": ""}
    assert body["shipping_address"]["line1"] == "世纪大道 1 号"
    assert body["allocations"] == [{"sku": "SKU00000", "location": warehouse.code,
                                    "quantity": 2}]
    assert [e["to_status"] for e in body["timeline"]] == [OrderStatus.PENDING_REVIEW,
                                                          OrderStatus.CONFIRMED]
    assert body["total"] == "198.00"


def test_channels_never_show_webhook_secrets(ecommerce, channel, warehouse):
    channel.webhook_url = "https://partner.example.com/hook"
    channel.webhook_secret = "s3cret-value"
    channel.save()
    listing = ecommerce.get(f"{BASE}channels/").content.decode()
    detail = ecommerce.get(f"{BASE}channels/{channel.code}/").json()
    assert "s3cret-value" not in listing
    assert "webhook_secret" not in detail
    assert detail["locations"] == [warehouse.code]
    assert detail["commission_rate"] == "0.0500"


def test_skus_show_stock_per_location(ecommerce, confirmed, sku, warehouse):
    store = StoreFactory()
    stock_receive(sku=sku, location=store.location, quantity=4, reason="门店到货")
    body = ecommerce.get(f"{BASE}skus/{sku.code}/").json()
    assert (body["on_hand"], body["reserved"], body["available"]) == (14, 2, 12)
    levels = {row["location"]: (row["on_hand"], row["reserved"], row["available"])
              for row in body["levels"]}
    assert levels == {warehouse.code: (10, 2, 8), store.location.code: (4, 0, 4)}
    listing = ecommerce.get(f"{BASE}skus/?code={sku.code}").json()
    assert listing["count"] == 1 and listing["results"][0]["available"] == 12
    assert ecommerce.get(f"{BASE}skus/NOPE/").status_code == 404


def test_stock_levels_filter_by_sku_and_location(ecommerce, sku, warehouse):
    store = StoreFactory()
    stock_receive(sku=sku, location=store.location, quantity=4, reason="门店到货")

    def rows(query: str) -> set[tuple[str, str, int]]:
        response = ecommerce.get(f"{BASE}stock-levels/{query}")
        assert response.status_code == 200
        return {(r["sku"], r["location"], r["available"]) for r in response.json()["results"]}

    assert rows(f"?sku={sku.code}") == {(sku.code, warehouse.code, 10),
                                        (sku.code, store.location.code, 4)}
    assert rows(f"?location={store.location.code}") == {(sku.code, store.location.code, 4)}
    assert rows("?sku=NOPE") == set()
