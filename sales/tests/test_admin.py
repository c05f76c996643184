"""Staff screens for orders, the exception queue, partner keys, webhooks and
stock, through the admin: what each department sees (core.departments), that
actions go through the services, and that refused actions change nothing."""

from decimal import Decimal
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Sum
from django.test import Client
from django.utils import timezone

from core.models import AuditEvent
from inventory.models import StockLevel, StockMovement
from sales.enums import ExceptionReason, OrderStatus, WebhookStatus
from sales.models import Order, OrderEvent, PartnerApiKey, WebhookDelivery
from sales.partner_keys import partner_key_create
from sales.services import LineInput, OrderInput, order_advance, order_create

pytestmark = pytest.mark.django_db

ORDERS = "/admin/sales/order/"
QUEUE = "/admin/sales/orderexceptionqueue/"


def staff_client(department: str) -> Client:
    user = get_user_model().objects.create_user(f"staff_{department}", password="pw-12345678",
                                                is_staff=True)
    user.groups.add(Group.objects.get(name=department))
    client = Client()
    client.force_login(user)
    return client


def make_order(channel, sku, n: int = 1, *, quantity: int = 2,
               paid: Decimal | None = None) -> Order:
    order, _created = order_create(channel=channel, data=OrderInput(
        external_id=f"EXT-{n}", customer_name=f"客户{n}", customer_phone=f"1370000{n:04d}",
        customer_email="", lines=[LineInput(sku=sku, quantity=quantity, unit_price=sku.price)],
        province="上海市", city="上海市", district="浦东新区", line1=f"世纪大道 {n} 号",
        fulfilment="express", paid_amount=sku.price * quantity if paid is None else paid))
    return order


def snapshot(order: Order) -> dict:
    order.refresh_from_db()
    stock = StockLevel.objects.aggregate(on_hand=Sum("on_hand"), reserved=Sum("reserved"))
    return {"status": order.status, "stock": (stock["on_hand"], stock["reserved"]),
            "events": OrderEvent.objects.filter(order=order).count(),
            "movements": StockMovement.objects.count(), "audit": AuditEvent.objects.count()}


def bulk_action(client: Client, url: str, action: str, *objects):
    return client.post(url, {"action": action, "index": 0,
                             "_selected_action": [o.pk for o in objects]})


@pytest.fixture
def confirmed(channel, sku) -> Order:
    return make_order(channel, sku, 1)


@pytest.fixture
def flagged(channel, sku) -> Order:
    order = make_order(channel, sku, 2, paid=Decimal("0.00"))
    assert order.exception_reason == ExceptionReason.PAYMENT_MISMATCH
    return order


@pytest.fixture
def ecommerce() -> Client:
    return staff_client("ecommerce")


# --- orders --------------------------------------------------------------------------

def test_order_change_page_shows_lines_allocations_and_timeline(ecommerce, confirmed):
    response = ecommerce.get(f"{ORDERS}{confirmed.pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="events-group"' in html and 'id="allocations-group"' in html
    assert "review passed" in html  # the confirmation event's reason
    assert confirmed.lines.get().name in html
    # view-only: no form field to edit the status or the amounts
    assert 'name="status"' not in html and 'name="total"' not in html


def test_order_list_filters_and_search(ecommerce, confirmed, flagged):
    html = ecommerce.get(f"{ORDERS}?status=exception").content.decode()
    assert flagged.number in html and confirmed.number not in html
    html = ecommerce.get(f"{ORDERS}?q=13700000001").content.decode()
    assert confirmed.number in html and flagged.number not in html
    Order.objects.filter(pk=flagged.pk).update(review_deadline=timezone.now())
    html = ecommerce.get(f"{ORDERS}?overdue=yes").content.decode()
    assert flagged.number in html and confirmed.number not in html
    for query in (f"channel__id__exact={confirmed.channel_id}", "fulfilment=express",
                  "priority=normal", "exception_reason=payment_mismatch", "overdue=no"):
        assert ecommerce.get(f"{ORDERS}?{query}").status_code == 200


def test_orders_cannot_be_added_edited_or_deleted(ecommerce, confirmed):
    before = snapshot(confirmed)
    assert ecommerce.get(f"{ORDERS}add/").status_code == 403
    ecommerce.post(f"{ORDERS}{confirmed.pk}/change/", {"status": "completed",
                                                       "total": "0.00"})
    assert ecommerce.post(f"{ORDERS}{confirmed.pk}/delete/", {"post": "yes"}).status_code == 403
    assert snapshot(confirmed) == before


def test_cancel_action_releases_stock(ecommerce, confirmed, sku):
    assert StockLevel.objects.get(sku=sku).reserved == 2
    response = bulk_action(ecommerce, ORDERS, "cancel_selected", confirmed)
    assert response.status_code == 302
    confirmed.refresh_from_db()
    assert confirmed.status == OrderStatus.CANCELLED
    level = StockLevel.objects.get(sku=sku)
    assert (level.on_hand, level.reserved) == (10, 0)
    assert AuditEvent.objects.get(action="order.cancel").actor.username == "staff_ecommerce"


def test_cancel_action_reports_orders_it_cannot_cancel(ecommerce, confirmed, flagged):
    for step in (OrderStatus.PICKING, OrderStatus.PACKED, OrderStatus.DISPATCHED):
        order_advance(order=confirmed, to_status=step, actor_label="test")
    before = snapshot(confirmed)
    response = bulk_action(ecommerce, ORDERS, "cancel_selected", confirmed, flagged)
    assert response.status_code == 302
    # the dispatched order is untouched; only the flagged one's cancel is audited
    assert snapshot(confirmed) == {**before, "audit": before["audit"] + 1}
    flagged.refresh_from_db()
    assert flagged.status == OrderStatus.CANCELLED
    page = ecommerce.get(ORDERS).content.decode()
    assert confirmed.number in page  # named in the error message


def test_detail_cancel_dialog_cancels_with_the_reason(ecommerce, confirmed, sku):
    url = f"{ORDERS}{confirmed.pk}/cancel/"
    assert ecommerce.get(url).status_code == 200  # the dialog
    response = ecommerce.post(url, {"_form_submitted": "True", "reason": "缺货，顾客同意取消"})
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"{ORDERS}{confirmed.pk}/change/"
    confirmed.refresh_from_db()
    assert confirmed.status == OrderStatus.CANCELLED
    assert confirmed.events.last().reason == "缺货，顾客同意取消"
    assert StockLevel.objects.get(sku=sku).reserved == 0


def test_exception_queue_lists_exceptions_by_review_deadline(ecommerce, channel, sku,
                                                             confirmed, flagged):
    later = make_order(channel, sku, 3, paid=Decimal("0.00"))
    Order.objects.filter(pk=flagged.pk).update(
        review_deadline=later.review_deadline + timezone.timedelta(minutes=5))
    html = ecommerce.get(QUEUE).content.decode()
    assert confirmed.number not in html
    assert html.index(later.number) < html.index(flagged.number)
    assert ecommerce.get(f"{QUEUE}{confirmed.pk}/change/").status_code in (302, 404)


def test_queue_approve_action_confirms_and_reserves(ecommerce, flagged, sku):
    response = bulk_action(ecommerce, QUEUE, "approve_selected", flagged)
    assert response.status_code == 302
    flagged.refresh_from_db()
    assert flagged.status == OrderStatus.CONFIRMED
    assert StockLevel.objects.get(sku=sku).reserved == 2
    assert AuditEvent.objects.filter(action="order.approve").count() == 1


def test_queue_detail_approve_and_retry(ecommerce, flagged, channel, sku):
    response = ecommerce.post(f"{QUEUE}{flagged.pk}/retry-review/", {"_form_submitted": "True"})
    assert response.status_code == 200
    flagged.refresh_from_db()
    assert flagged.status == OrderStatus.EXCEPTION  # still paid 0
    response = ecommerce.post(f"{QUEUE}{flagged.pk}/approve/",
                              {"_form_submitted": "True", "reason": "线下已收款"})
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"{ORDERS}{flagged.pk}/change/"  # it left the queue
    flagged.refresh_from_db()
    assert flagged.status == OrderStatus.CONFIRMED
    assert AuditEvent.objects.get(action="order.approve").reason == "线下已收款"


def test_delivery_may_view_orders_but_not_act(confirmed, flagged):
    """core.departments: delivery views sales (and inventory), owns neither."""
    client = staff_client("delivery")
    assert client.get(ORDERS).status_code == 200
    assert client.get(f"{ORDERS}{confirmed.pk}/change/").status_code == 200
    assert client.get(QUEUE).status_code == 200
    for order, url, action in ((confirmed, ORDERS, "cancel_selected"),
                               (flagged, QUEUE, "approve_selected"),
                               (flagged, QUEUE, "retry_review_selected")):
        before = snapshot(order)
        bulk_action(client, url, action, order)
        assert snapshot(order) == before
    for order, path in ((confirmed, f"{ORDERS}{confirmed.pk}/cancel/"),
                        (flagged, f"{QUEUE}{flagged.pk}/approve/"),
                        (flagged, f"{QUEUE}{flagged.pk}/retry-review/")):
        before = snapshot(order)
        response = client.post(path, {"_form_submitted": "True"})
        assert response.status_code == 403
        assert snapshot(order) == before


def test_departments_without_sales_see_no_orders(confirmed):
    client = staff_client("tech_support")
    assert client.get(ORDERS).status_code == 403
    assert client.get(f"{ORDERS}{confirmed.pk}/change/").status_code == 403
    before = snapshot(confirmed)
    assert bulk_action(client, ORDERS, "cancel_selected", confirmed).status_code == 403
    assert snapshot(confirmed) == before


def test_anonymous_is_sent_to_login(confirmed):
    response = Client().post(f"{ORDERS}{confirmed.pk}/cancel/", {"_form_submitted": "True"})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert Order.objects.get(pk=confirmed.pk).status == OrderStatus.CONFIRMED


# --- partner keys and webhooks -------------------------------------------------------

def test_partner_keys_show_no_hash_and_can_be_revoked(ecommerce, channel):
    key, _plain = partner_key_create(channel=channel, name="淘宝对接")
    html = ecommerce.get("/admin/sales/partnerapikey/").content.decode()
    html += ecommerce.get(f"/admin/sales/partnerapikey/{key.pk}/change/").content.decode()
    assert key.prefix in html and key.hashed_key not in html
    response = bulk_action(ecommerce, "/admin/sales/partnerapikey/", "revoke_selected", key)
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert AuditEvent.objects.filter(action="partner_key.revoke").count() == 1


def test_delivery_cannot_revoke_partner_keys(channel):
    key, _plain = partner_key_create(channel=channel)
    client = staff_client("delivery")
    assert client.get("/admin/sales/partnerapikey/").status_code == 200
    bulk_action(client, "/admin/sales/partnerapikey/", "revoke_selected", key)
    assert PartnerApiKey.objects.get(pk=key.pk).revoked_at is None


@pytest.fixture
def failed_delivery(confirmed) -> WebhookDelivery:
    return WebhookDelivery.objects.create(
        channel=confirmed.channel, order=confirmed, event="order.status_changed",
        payload={"order": {"number": confirmed.number}}, status=WebhookStatus.FAILED,
        attempts=10, last_error="HTTP 500",
        next_attempt_at=timezone.now() + timezone.timedelta(hours=6))


def test_webhook_retry_now_makes_it_due_and_queues_it(ecommerce, failed_delivery,
                                                      django_capture_on_commit_callbacks):
    with (mock.patch("sales.tasks.webhook_deliver_task.delay") as delay,
          django_capture_on_commit_callbacks(execute=True)):
        response = bulk_action(ecommerce, "/admin/sales/webhookdelivery/", "retry_now",
                               failed_delivery)
    assert response.status_code == 302
    failed_delivery.refresh_from_db()
    assert failed_delivery.status == WebhookStatus.PENDING
    assert failed_delivery.next_attempt_at <= timezone.now()
    delay.assert_called_once_with(failed_delivery.pk)
    assert AuditEvent.objects.filter(action="webhook.retry").count() == 1


def test_delivery_cannot_retry_webhooks(failed_delivery, django_capture_on_commit_callbacks):
    client = staff_client("delivery")
    with (mock.patch("sales.tasks.webhook_deliver_task.delay") as delay,
          django_capture_on_commit_callbacks(execute=True)):
        bulk_action(client, "/admin/sales/webhookdelivery/", "retry_now", failed_delivery)
    failed_delivery.refresh_from_db()
    assert failed_delivery.status == WebhookStatus.FAILED
    delay.assert_not_called()


# --- stock screens -------------------------------------------------------------------

def test_stock_screens_are_read_only(ecommerce, confirmed, sku):
    level = StockLevel.objects.get(sku=sku)
    movement = StockMovement.objects.filter(sku=sku).first()
    for url in ("/admin/inventory/stocklevel/", f"/admin/inventory/stocklevel/{level.pk}/change/",
                "/admin/inventory/stockmovement/",
                f"/admin/inventory/stockmovement/{movement.pk}/change/",
                f"/admin/inventory/sku/{sku.pk}/change/", "/admin/inventory/product/"):
        assert ecommerce.get(url).status_code == 200, url
    before = snapshot(confirmed)
    assert ecommerce.get("/admin/inventory/stockmovement/add/").status_code == 403
    assert ecommerce.get("/admin/inventory/stocklevel/add/").status_code == 403
    ecommerce.post(f"/admin/inventory/stocklevel/{level.pk}/change/", {"on_hand": 999})
    assert ecommerce.post(f"/admin/inventory/stockmovement/{movement.pk}/delete/",
                          {"post": "yes"}).status_code == 403
    assert snapshot(confirmed) == before


def test_sku_page_shows_stock_by_location(ecommerce, confirmed, sku, warehouse):
    html = ecommerce.get(f"/admin/inventory/sku/{sku.pk}/change/").content.decode()
    assert 'id="levels-group"' in html and warehouse.name in html


def test_finance_has_no_stock_screens():
    client = staff_client("finance")
    assert client.get("/admin/inventory/stocklevel/").status_code == 403
    assert client.get("/admin/inventory/stockmovement/").status_code == 403
    assert client.get(ORDERS).status_code == 200  # finance reads sales
