"""Partner REST API through HTTP (SPEC §9): the order contract, listing,
tracking, cancelling, available-to-sell, sequential idempotency, and that a
key sees only its own channel and nothing of the staff side."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Sum
from django.utils import timezone
from rest_framework.test import APIClient

from inventory.models import StockLevel, StockMovement
from sales.enums import OrderStatus
from sales.models import (
    ChannelSkuBuffer,
    Customer,
    IdempotencyKey,
    Order,
    OrderAllocation,
    OrderEvent,
    OrderLine,
)
from sales.partner_keys import partner_key_create, partner_key_revoke
from sales.services import order_advance
from sales.tests.factories import LocationFactory, order_body, stocked_sku

pytestmark = pytest.mark.django_db

BASE = "/api/v1/partner/"
ORDERS = f"{BASE}orders/"
STOCK = f"{BASE}stock/"
MONEY = re.compile(r"^-?\d+\.\d{2}$")
CONTRACT_FIELDS = {"number", "external_id", "status", "exception_reason", "lines", "total",
                   "paid_amount", "fulfilment", "created_at"}


# --- helpers -----------------------------------------------------------------------------

def body_for(n: int = 1, **overrides) -> dict:
    """A valid order whose customer and address differ per `n`, so that the
    duplicate and fraud checks of the review stay out of the way."""
    overrides.setdefault("external_id", f"EXT-{n}")
    body = order_body(**overrides)
    body["customer"] = {"name": f"客户{n}", "phone": f"1380000{n:04d}",
                        "email": f"c{n}@example.com"}
    body["shipping_address"] = dict(body["shipping_address"], line1=f"世纪大道 {n} 号")
    return body


def create(client, n: int = 1, *, key: str | None = None, expect: int = 201, **overrides):
    response = client.post(ORDERS, body_for(n, **overrides), format="json",
                           HTTP_IDEMPOTENCY_KEY=key or f"key-{n}")
    assert response.status_code == expect, response.content
    return response.json()


def advance(number: str, *statuses: str) -> Order:
    order = Order.objects.get(number=number)
    for to_status in statuses:
        order = order_advance(order=order, to_status=to_status, actor_label="test")
    return order


def to_dispatched(number: str) -> Order:
    return advance(number, OrderStatus.PICKING, OrderStatus.PACKED, OrderStatus.DISPATCHED)


def stock_of(sku) -> tuple[int, int]:
    level = StockLevel.objects.filter(sku=sku).aggregate(on_hand=Sum("on_hand"),
                                                         reserved=Sum("reserved"))
    return level["on_hand"] or 0, level["reserved"] or 0


def snapshot() -> dict:
    return {
        "orders": Order.objects.count(),
        "lines": OrderLine.objects.count(),
        "events": OrderEvent.objects.count(),
        "allocations": OrderAllocation.objects.count(),
        "customers": Customer.objects.count(),
        "movements": StockMovement.objects.count(),
        "levels": sorted(StockLevel.objects.values_list("sku_id", "location_id", "on_hand",
                                                        "reserved")),
        "statuses": sorted(Order.objects.values_list("number", "status")),
    }


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    data = response.json()
    assert set(data) == {"code", "message", "fields"}, data
    assert isinstance(data["message"], str) and data["message"]
    assert isinstance(data["fields"], dict)
    if code is not None:
        assert data["code"] == code, data
    return data


def assert_order_contract(order: dict) -> None:
    assert set(order) >= CONTRACT_FIELDS, CONTRACT_FIELDS - set(order)
    assert isinstance(order["number"], str) and order["number"]
    assert isinstance(order["external_id"], str)
    assert order["status"] in OrderStatus.values
    if order["status"] == OrderStatus.EXCEPTION:
        assert isinstance(order["exception_reason"], str) and order["exception_reason"]
    else:
        assert order["exception_reason"] is None
    assert isinstance(order["lines"], list) and order["lines"]
    for line in order["lines"]:
        assert {"sku", "quantity", "unit_price"} <= set(line)
        assert isinstance(line["sku"], str)
        assert isinstance(line["quantity"], int) and not isinstance(line["quantity"], bool)
        assert isinstance(line["unit_price"], str) and MONEY.match(line["unit_price"])
    for money_field in ("total", "paid_amount"):
        assert isinstance(order[money_field], str), money_field
        assert MONEY.match(order[money_field]), order[money_field]
    assert order["fulfilment"] in {"delivery", "express", "pickup"}
    created_at = datetime.fromisoformat(order["created_at"])
    assert created_at.tzinfo is not None


def set_created_at(number: str, when: datetime) -> None:
    Order.objects.filter(number=number).update(created_at=when)


# --- the order contract ---------------------------------------------------------------------

def test_created_order_has_the_contract_fields(api, sku):
    before = timezone.now()
    order = create(api, quantity=3, unit_price="12.50")
    assert_order_contract(order)
    assert order["external_id"] == "EXT-1"
    assert order["status"] == "confirmed"
    assert order["exception_reason"] is None
    assert order["lines"] == [{"sku": "SKU00000", "name": sku.name, "quantity": 3,
                               "unit_price": "12.50", "discount": "0.00",
                               "line_total": "37.50"}]
    assert order["total"] == "37.50"
    assert order["paid_amount"] == "37.50"
    assert order["fulfilment"] == "express"
    created_at = datetime.fromisoformat(order["created_at"])
    assert before - timedelta(seconds=1) <= created_at <= timezone.now() + timedelta(seconds=1)


def test_money_keeps_two_decimals_and_sums_exactly(api, sku):
    body = body_for()
    body["lines"] = [{"sku": "SKU00000", "quantity": 3, "unit_price": "0.10"},
                     {"sku": "SKU00000", "quantity": 1, "unit_price": "0.2"},
                     {"sku": "SKU00000", "quantity": 1, "unit_price": "1"}]
    body["paid_amount"] = "1.50"
    response = api.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 201, response.content
    order = response.json()
    assert [line["unit_price"] for line in order["lines"]] == ["0.10", "0.20", "1.00"]
    assert order["total"] == "1.50"
    assert order["status"] == "confirmed"
    assert stock_of(sku) == (10, 5)


def test_delivery_window_is_kept(api, sku):
    start = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
    end = start + timedelta(hours=2)
    order = create(api, delivery_window={"start": start.isoformat(), "end": end.isoformat()})
    assert datetime.fromisoformat(order["delivery_window"]["start"]) == start
    assert datetime.fromisoformat(order["delivery_window"]["end"]) == end


def test_insufficient_stock_is_201_exception_with_reason(api, sku):
    order = create(api, quantity=11)
    assert_order_contract(order)
    assert (order["status"], order["exception_reason"]) == ("exception", "insufficient_stock")
    assert stock_of(sku) == (10, 0)
    assert not OrderAllocation.objects.exists()


def test_paid_amount_not_matching_total_is_an_exception(api, sku):
    order = create(api, quantity=2, paid_amount="1.00")
    assert (order["status"], order["exception_reason"]) == ("exception", "payment_mismatch")
    assert stock_of(sku) == (10, 0)


def test_detail_answers_the_same_order(api, sku):
    created = create(api)
    response = api.get(f"{ORDERS}{created['number']}/")
    assert response.status_code == 200
    assert response.json() == created
    assert_order_contract(response.json())


def test_unknown_order_number_is_404(api, sku):
    for path in ("RT000000NOPE/", "RT000000NOPE/tracking/"):
        assert_error(api.get(f"{ORDERS}{path}"), 404, "not_found")
    assert_error(api.post(f"{ORDERS}RT000000NOPE/cancel/", {}, format="json"), 404, "not_found")


# --- listing ----------------------------------------------------------------------------------

def test_list_is_paginated_newest_first(api, sku):
    numbers = [create(api, n)["number"] for n in range(1, 4)]
    now = timezone.now()
    for age, number in zip((3, 2, 1), numbers, strict=True):
        set_created_at(number, now - timedelta(minutes=age))

    page1 = api.get(ORDERS, {"page_size": 2})
    assert page1.status_code == 200
    data = page1.json()
    assert set(data) == {"count", "next", "previous", "results"}
    assert data["count"] == 3
    assert data["previous"] is None
    assert data["next"]
    assert [o["number"] for o in data["results"]] == [numbers[2], numbers[1]]
    for order in data["results"]:
        assert_order_contract(order)

    page2 = api.get(data["next"]).json()
    assert page2["count"] == 3
    assert page2["next"] is None
    assert page2["previous"]
    assert [o["number"] for o in page2["results"]] == [numbers[0]]


def test_list_of_a_channel_without_orders_is_empty(api, sku):
    assert api.get(ORDERS).json() == {"count": 0, "next": None, "previous": None,
                                      "results": []}


def test_list_filters_by_status(api, sku):
    confirmed = create(api, 1)["number"]
    exception = create(api, 2, quantity=50)["number"]
    cancelled = create(api, 3)["number"]
    assert api.post(f"{ORDERS}{cancelled}/cancel/", {}, format="json").status_code == 200

    def numbers(status):
        response = api.get(ORDERS, {"status": status})
        assert response.status_code == 200
        return {o["number"] for o in response.json()["results"]}

    assert numbers("confirmed") == {confirmed}
    assert numbers("exception") == {exception}
    assert numbers("cancelled") == {cancelled}
    assert numbers("dispatched") == set()


def test_list_filters_by_created_after_and_before(api, sku):
    now = timezone.now().replace(microsecond=0)
    old, middle, new = (create(api, n)["number"] for n in (1, 2, 3))
    set_created_at(old, now - timedelta(days=3))
    set_created_at(middle, now - timedelta(days=2))
    set_created_at(new, now - timedelta(days=1))

    def numbers(**params):
        response = api.get(ORDERS, {k: v.isoformat() for k, v in params.items()})
        assert response.status_code == 200, response.content
        return {o["number"] for o in response.json()["results"]}

    assert numbers(created_after=now - timedelta(days=2, hours=1)) == {middle, new}
    assert numbers(created_before=now - timedelta(days=1, hours=1)) == {old, middle}
    assert numbers(created_after=now - timedelta(days=2, hours=1),
                   created_before=now - timedelta(days=1, hours=1)) == {middle}
    assert numbers(created_after=now) == set()
    # the same instant written in UTC filters the same way
    utc = (now - timedelta(days=2, hours=1)).astimezone(UTC)
    assert numbers(created_after=utc) == {middle, new}


def test_list_filters_combine_with_status(api, sku):
    now = timezone.now()
    first = create(api, 1)["number"]
    create(api, 2, quantity=50)
    set_created_at(first, now - timedelta(days=5))
    response = api.get(ORDERS, {"status": "confirmed",
                                "created_before": (now - timedelta(days=1)).isoformat()})
    assert [o["number"] for o in response.json()["results"]] == [first]


@pytest.mark.parametrize(("param", "value"), [("status", "shipped"),
                                              ("created_after", "yesterday"),
                                              ("created_before", "2026-02-30T00:00:00")])
def test_bad_list_filter_is_400_naming_the_filter(api, sku, param, value):
    data = assert_error(api.get(ORDERS, {param: value}), 400, "invalid")
    assert list(data["fields"]) == [param]


# --- tracking ---------------------------------------------------------------------------------

def test_tracking_shows_the_status_timeline(api, sku):
    number = create(api)["number"]
    response = api.get(f"{ORDERS}{number}/tracking/")
    assert response.status_code == 200
    data = response.json()
    assert data["number"] == number
    assert data["status"] == "confirmed"
    assert [entry["status"] for entry in data["timeline"]] == ["pending_review", "confirmed"]
    assert isinstance(data["events"], list)
    for entry in data["timeline"]:
        assert datetime.fromisoformat(entry["created_at"]).tzinfo is not None

    to_dispatched(number)
    advance(number, OrderStatus.DELIVERED)
    data = api.get(f"{ORDERS}{number}/tracking/").json()
    assert data["status"] == "delivered"
    assert [entry["status"] for entry in data["timeline"]] == [
        "pending_review", "confirmed", "picking", "packed", "dispatched", "delivered"]
    stamps = [datetime.fromisoformat(entry["created_at"]) for entry in data["timeline"]]
    assert stamps == sorted(stamps)


def test_tracking_of_an_exception_and_its_cancellation(api, sku):
    number = create(api, quantity=99)["number"]
    api.post(f"{ORDERS}{number}/cancel/", {"reason": "缺货，客户取消"}, format="json")
    timeline = api.get(f"{ORDERS}{number}/tracking/").json()["timeline"]
    assert [entry["status"] for entry in timeline] == ["pending_review", "exception",
                                                       "cancelled"]
    assert timeline[1]["reason"] == "insufficient_stock"
    assert timeline[2]["reason"] == "缺货，客户取消"


# --- cancelling -------------------------------------------------------------------------------

def test_cancel_answers_the_order_and_releases_stock(api, sku):
    number = create(api, quantity=4)["number"]
    assert stock_of(sku) == (10, 4)
    movements = StockMovement.objects.count()

    response = api.post(f"{ORDERS}{number}/cancel/", {"reason": "客户取消"}, format="json")

    assert response.status_code == 200, response.content
    assert_order_contract(response.json())
    assert response.json()["number"] == number
    assert response.json()["status"] == "cancelled"
    assert stock_of(sku) == (10, 0)
    assert StockMovement.objects.count() == movements + 1
    assert api.get(STOCK, {"sku": "SKU00000"}).json()["results"][0]["available"] == 10


def test_cancel_without_a_body_is_allowed(api, sku):
    number = create(api)["number"]
    response = api.post(f"{ORDERS}{number}/cancel/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"


@pytest.mark.parametrize("steps", [(OrderStatus.PICKING,),
                                   (OrderStatus.PICKING, OrderStatus.PACKED)],
                         ids=["picking", "packed"])
def test_cancel_is_allowed_until_dispatched(api, sku, steps):
    number = create(api, quantity=2)["number"]
    advance(number, *steps)
    response = api.post(f"{ORDERS}{number}/cancel/", {}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    assert stock_of(sku) == (10, 0)


def test_cancel_of_an_exception_order_moves_no_stock(api, sku):
    number = create(api, quantity=50)["number"]
    movements = StockMovement.objects.count()
    response = api.post(f"{ORDERS}{number}/cancel/", {}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["exception_reason"] is None
    assert StockMovement.objects.count() == movements
    assert stock_of(sku) == (10, 0)


def test_cancelling_a_dispatched_order_is_409_and_changes_nothing(api, sku):
    number = create(api, quantity=3)["number"]
    to_dispatched(number)
    assert stock_of(sku) == (7, 0)
    before = snapshot()

    response = api.post(f"{ORDERS}{number}/cancel/", {"reason": "太晚了"}, format="json")

    assert_error(response, 409, "order_not_cancellable")
    assert snapshot() == before
    assert api.get(f"{ORDERS}{number}/").json()["status"] == "dispatched"


@pytest.mark.parametrize("later", [(OrderStatus.DELIVERED,),
                                   (OrderStatus.DELIVERED, OrderStatus.COMPLETED)],
                         ids=["delivered", "completed"])
def test_cancelling_later_than_dispatch_is_409(api, sku, later):
    number = create(api)["number"]
    to_dispatched(number)
    advance(number, *later)
    before = snapshot()
    assert_error(api.post(f"{ORDERS}{number}/cancel/", {}, format="json"), 409,
                 "order_not_cancellable")
    assert snapshot() == before


def test_cancelling_twice_is_409(api, sku):
    number = create(api, quantity=2)["number"]
    assert api.post(f"{ORDERS}{number}/cancel/", {}, format="json").status_code == 200
    before = snapshot()
    assert_error(api.post(f"{ORDERS}{number}/cancel/", {}, format="json"), 409,
                 "order_not_cancellable")
    assert snapshot() == before
    assert stock_of(sku) == (10, 0)


# --- available-to-sell ------------------------------------------------------------------------

def test_stock_is_paginated_with_sku_name_available(api, sku, warehouse):
    other = stocked_sku(location=warehouse, quantity=4, code="SKU-B")
    response = api.get(STOCK)
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"count", "next", "previous", "results"}
    by_code = {item["sku"]: item for item in data["results"]}
    assert by_code["SKU00000"] == {"sku": "SKU00000", "name": sku.name, "available": 10}
    assert by_code["SKU-B"] == {"sku": "SKU-B", "name": other.name, "available": 4}
    for item in data["results"]:
        assert set(item) == {"sku", "name", "available"}
        assert isinstance(item["available"], int) and item["available"] >= 0


def test_stock_sku_filter(api, sku, warehouse):
    stocked_sku(location=warehouse, quantity=4, code="SKU-B")
    data = api.get(STOCK, {"sku": "SKU-B"}).json()
    assert data["count"] == 1
    assert [item["sku"] for item in data["results"]] == ["SKU-B"]
    assert api.get(STOCK, {"sku": "NOPE"}).json()["results"] == []


def test_reserved_stock_reduces_available(api, sku):
    create(api, 1, quantity=3)
    assert api.get(STOCK, {"sku": "SKU00000"}).json()["results"][0]["available"] == 7
    create(api, 2, quantity=7)
    assert api.get(STOCK, {"sku": "SKU00000"}).json()["results"][0]["available"] == 0


def test_reservations_of_another_channel_on_shared_stock_reduce_available(api, other_api, sku):
    create(other_api, 1, quantity=6)
    assert api.get(STOCK, {"sku": "SKU00000"}).json()["results"][0]["available"] == 4


def test_dispatched_stock_is_no_longer_available(api, sku):
    number = create(api, quantity=3)["number"]
    to_dispatched(number)
    assert api.get(STOCK, {"sku": "SKU00000"}).json()["results"][0]["available"] == 7


def test_channel_buffer_reduces_available_for_that_channel_only(api, other_api, channel, sku):
    ChannelSkuBuffer.objects.create(channel=channel, sku=sku, buffer=3)
    assert api.get(STOCK, {"sku": "SKU00000"}).json()["results"][0]["available"] == 7
    assert other_api.get(STOCK, {"sku": "SKU00000"}).json()["results"][0]["available"] == 10


def test_buffer_and_reservation_together(api, channel, sku):
    ChannelSkuBuffer.objects.create(channel=channel, sku=sku, buffer=2)
    create(api, quantity=5)
    assert api.get(STOCK, {"sku": "SKU00000"}).json()["results"][0]["available"] == 3


@pytest.mark.parametrize("buffer", [10, 11, 1000])
def test_available_never_goes_below_zero(api, channel, sku, buffer):
    ChannelSkuBuffer.objects.create(channel=channel, sku=sku, buffer=buffer)
    assert api.get(STOCK, {"sku": "SKU00000"}).json()["results"][0]["available"] == 0


def test_available_never_below_zero_with_reservations_and_buffer(api, channel, sku):
    create(api, quantity=8)
    ChannelSkuBuffer.objects.create(channel=channel, sku=sku, buffer=5)
    assert api.get(STOCK, {"sku": "SKU00000"}).json()["results"][0]["available"] == 0


def test_stock_counts_only_the_channels_locations(api, channel, sku):
    elsewhere = LocationFactory(code="WH2", name="北京仓")
    stocked_sku(location=elsewhere, quantity=50, code="ONLY-ELSEWHERE")
    from inventory.services import stock_receive

    stock_receive(sku=sku, location=elsewhere, quantity=100, reason="test")
    results = {i["sku"]: i["available"] for i in api.get(STOCK).json()["results"]}
    assert results["SKU00000"] == 10
    assert results.get("ONLY-ELSEWHERE", 0) == 0


def test_inactive_sku_is_not_offered(api, warehouse, sku):
    stocked_sku(location=warehouse, quantity=5, code="RETIRED", is_active=False)
    assert api.get(STOCK, {"sku": "RETIRED"}).json()["results"] == []


# --- idempotency (sequential) -----------------------------------------------------------------

def test_same_key_and_body_replays_the_same_reply_byte_for_byte(api, sku):
    body = body_for(quantity=2)
    first = api.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="same")
    assert first.status_code == 201
    after_first = snapshot()

    second = api.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="same")
    third = api.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="same")

    assert second.status_code == third.status_code == 201
    assert second.content == first.content
    assert third.content == first.content
    assert snapshot() == after_first
    assert Order.objects.count() == 1
    assert stock_of(sku) == (10, 2)


def test_replay_does_not_depend_on_member_order_or_whitespace(api, sku):
    body = body_for()
    first = api.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="same")
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=4, ensure_ascii=False)
    second = api.post(ORDERS, reordered.encode(), content_type="application/json",
                      HTTP_IDEMPOTENCY_KEY="same")
    assert second.status_code == 201
    assert second.content == first.content
    assert Order.objects.count() == 1


def test_replay_answers_the_original_reply_even_after_the_order_changed(api, sku):
    body = body_for()
    first = api.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="same")
    api.post(f"{ORDERS}{first.json()['number']}/cancel/", {}, format="json")
    again = api.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="same")
    assert (again.status_code, again.content) == (201, first.content)
    assert Order.objects.get().status == "cancelled"
    assert stock_of(sku) == (10, 0)


def test_same_key_with_another_body_is_422_and_creates_nothing(api, sku):
    first = api.post(ORDERS, body_for(1), format="json", HTTP_IDEMPOTENCY_KEY="same")
    assert first.status_code == 201
    before = snapshot()

    for other in (body_for(2), body_for(1, quantity=5), {**body_for(1), "note": "改了"}):
        response = api.post(ORDERS, other, format="json", HTTP_IDEMPOTENCY_KEY="same")
        assert_error(response, 422, "idempotency_key_reused")

    assert snapshot() == before
    # the original reply is still the one the key answers
    again = api.post(ORDERS, body_for(1), format="json", HTTP_IDEMPOTENCY_KEY="same")
    assert (again.status_code, again.content) == (201, first.content)


def test_other_key_same_external_id_answers_the_existing_order(api, sku):
    created = create(api, 1, key="first", quantity=2)
    before = snapshot()

    response = api.post(ORDERS, body_for(1, quantity=2), format="json",
                        HTTP_IDEMPOTENCY_KEY="second")

    assert response.status_code == 200, response.content
    assert response.json() == api.get(f"{ORDERS}{created['number']}/").json()
    assert response.json()["number"] == created["number"]
    assert snapshot() == before
    assert stock_of(sku) == (10, 2)


def test_other_key_same_external_id_other_content_still_answers_the_existing(api, sku):
    created = create(api, 1, key="first", quantity=2)
    before = snapshot()
    response = api.post(ORDERS, body_for(1, quantity=7, fulfilment="pickup"), format="json",
                        HTTP_IDEMPOTENCY_KEY="third")
    assert response.status_code == 200
    assert response.json()["number"] == created["number"]
    assert response.json()["lines"][0]["quantity"] == 2
    assert response.json()["fulfilment"] == "express"
    assert snapshot() == before


def test_the_200_reply_is_replayed_too(api, sku):
    create(api, 1, key="first")
    second = api.post(ORDERS, body_for(1), format="json", HTTP_IDEMPOTENCY_KEY="second")
    again = api.post(ORDERS, body_for(1), format="json", HTTP_IDEMPOTENCY_KEY="second")
    assert (second.status_code, again.status_code) == (200, 200)
    assert again.content == second.content
    assert Order.objects.count() == 1


def test_idempotency_keys_are_per_channel(api, other_api, sku):
    body = body_for(1)
    mine = api.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="shared-key")
    theirs = other_api.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="shared-key")

    assert mine.status_code == 201, mine.content
    assert theirs.status_code == 201, theirs.content
    assert mine.json()["number"] != theirs.json()["number"]
    assert Order.objects.count() == 2
    assert set(Order.objects.values_list("channel__code", flat=True)) == {"taobao", "jd"}
    assert IdempotencyKey.objects.filter(key="shared-key").count() == 2
    assert api.get(ORDERS).json()["results"][0]["number"] == mine.json()["number"]
    assert other_api.get(ORDERS).json()["results"][0]["number"] == theirs.json()["number"]


def test_external_ids_are_per_channel(api, other_api, sku):
    mine = create(api, 1)
    theirs = create(other_api, 2, external_id="EXT-1")
    assert theirs["external_id"] == mine["external_id"] == "EXT-1"
    assert theirs["number"] != mine["number"]


# --- authentication and isolation ------------------------------------------------------------

ENDPOINTS = [
    ("get", "orders/"),
    ("post", "orders/"),
    ("get", "orders/{number}/"),
    ("get", "orders/{number}/tracking/"),
    ("post", "orders/{number}/cancel/"),
    ("get", "stock/"),
]
ENDPOINT_IDS = [f"{method.upper()} {path}" for method, path in ENDPOINTS]


def call(client, method: str, path: str, number: str, **extra):
    url = BASE + path.format(number=number)
    if method == "post":
        body = body_for(9) if path == "orders/" else {"reason": "x"}
        return client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="auth-key", **extra)
    return client.get(url, **extra)


@pytest.fixture
def existing(api, sku) -> str:
    """A confirmed order of channel A (taobao) holding 2 units."""
    return create(api, 1, quantity=2)["number"]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS, ids=ENDPOINT_IDS)
def test_anonymous_is_401(existing, method, path):
    before = snapshot()
    response = call(APIClient(), method, path, existing)
    assert_error(response, 401, "not_authenticated")
    assert response.has_header("WWW-Authenticate")
    assert snapshot() == before


BAD_AUTH = {
    "bearer-scheme": "Bearer {key}",
    "token-scheme": "Token {key}",
    "basic-scheme": "Basic dGFvYmFvOnNlY3JldA==",
    "no-key": "Api-Key",
    "blank-key": "Api-Key    ",
    "garbage": "Api-Key garbage",
    "shaped-garbage": "Api-Key rt_deadbeef_notarealsecret",
    "wrong-secret": "Api-Key {key}x",
    "truncated": "Api-Key {key_truncated}",
    "key-only": "{key}",
    "unicode": "Api-Key 钥匙🔑",
}


@pytest.mark.parametrize("header", list(BAD_AUTH.values()), ids=list(BAD_AUTH))
@pytest.mark.parametrize(("method", "path"), ENDPOINTS, ids=ENDPOINT_IDS)
def test_wrong_scheme_or_unknown_key_is_401(channel, existing, method, path, header):
    key = partner_key_create(channel=channel)[1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header.format(key=key, key_truncated=key[:-1]))
    before = snapshot()
    response = call(client, method, path, existing)
    assert_error(response, 401)
    assert snapshot() == before


@pytest.mark.parametrize(("method", "path"), ENDPOINTS, ids=ENDPOINT_IDS)
def test_revoked_key_is_401(channel, existing, method, path):
    key_row, plain = partner_key_create(channel=channel)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {plain}")
    assert client.get(ORDERS).status_code == 200
    partner_key_revoke(key=key_row)
    before = snapshot()
    assert_error(call(client, method, path, existing), 401, "authentication_failed")
    assert snapshot() == before


@pytest.mark.parametrize(("method", "path"), ENDPOINTS, ids=ENDPOINT_IDS)
def test_key_of_an_inactive_channel_is_401(channel, existing, method, path):
    plain = partner_key_create(channel=channel)[1]
    channel.is_active = False
    channel.save(update_fields=["is_active"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {plain}")
    assert_error(call(client, method, path, existing), 401)


def test_revoking_one_key_leaves_the_channels_other_keys_working(api, channel, existing):
    key_row, plain = partner_key_create(channel=channel)
    partner_key_revoke(key=key_row)
    assert api.get(f"{ORDERS}{existing}/").status_code == 200


@pytest.mark.parametrize("suffix", ["", "tracking/"])
def test_other_channel_gets_404_for_the_order(other_api, existing, suffix):
    assert_error(other_api.get(f"{ORDERS}{existing}/{suffix}"), 404, "not_found")


def test_other_channel_cannot_cancel_the_order(other_api, api, sku, existing):
    before = snapshot()
    response = other_api.post(f"{ORDERS}{existing}/cancel/", {"reason": "恶意取消"},
                              format="json")
    assert_error(response, 404, "not_found")
    assert snapshot() == before
    assert stock_of(sku) == (10, 2)
    assert api.get(f"{ORDERS}{existing}/").json()["status"] == "confirmed"
    assert [e["status"] for e in api.get(f"{ORDERS}{existing}/tracking/").json()["timeline"]] \
        == ["pending_review", "confirmed"]


def test_the_404_for_another_channels_order_equals_the_404_for_no_order(other_api, existing):
    theirs = other_api.get(f"{ORDERS}{existing}/")
    nobody = other_api.get(f"{ORDERS}RT000000NONE/")
    assert (theirs.status_code, theirs.json()) == (nobody.status_code, nobody.json())


def test_list_shows_only_the_channels_own_orders(api, other_api, existing):
    theirs = create(other_api, 2)["number"]
    assert [o["number"] for o in api.get(ORDERS).json()["results"]] == [existing]
    assert [o["number"] for o in other_api.get(ORDERS).json()["results"]] == [theirs]
    for status in ("confirmed", ""):
        numbers = {o["number"] for o in
                   other_api.get(ORDERS, {"status": status} if status else {}).json()["results"]}
        assert existing not in numbers


def test_partner_key_cannot_reach_the_admin(api, existing):
    for url in ("/admin/", "/admin/sales/order/", f"/admin/sales/order/?q={existing}"):
        response = api.get(url)
        assert response.status_code in (302, 401, 403), (url, response.status_code)
        if response.status_code == 302:
            assert "/admin/login/" in response["Location"]
        assert existing.encode() not in response.content


@pytest.mark.parametrize("url", ["/api/v1/staff/orders/", f"/api/v1/staff/orders/{'{number}'}/"])
def test_partner_key_cannot_reach_the_staff_api(api, existing, url):
    response = api.get(url.format(number=existing))
    assert response.status_code != 200
    assert response.status_code in (401, 403, 404), response.status_code
    assert existing.encode() not in response.content


@pytest.fixture
def staff_client(db) -> APIClient:
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-123456")
    client = APIClient()
    client.force_login(user)
    return client


@pytest.mark.parametrize(("method", "path"), ENDPOINTS, ids=ENDPOINT_IDS)
def test_staff_session_without_api_key_is_401(staff_client, existing, method, path):
    assert staff_client.get("/admin/").status_code == 200  # the session itself is valid
    before = snapshot()
    assert_error(call(staff_client, method, path, existing), 401)
    assert snapshot() == before


def test_staff_session_with_a_bad_api_key_is_still_401(staff_client, existing):
    staff_client.credentials(HTTP_AUTHORIZATION="Api-Key rt_00000000_nope")
    assert_error(staff_client.get(f"{ORDERS}{existing}/"), 401)
