"""Partner order intake through HTTP (SPEC §9): every bad input answers 400
`{"code", "message", "fields"}` naming the field path and writes nothing —
no order, no customer, no idempotency record, no stock reservation or
movement. Unicode is data: Chinese, emoji and right-to-left text are accepted
and round-trip exactly; NUL and lone surrogates are refused, never a 500."""

import copy
import json
from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from inventory.models import Sku, StockLevel, StockMovement
from sales.models import (
    Customer,
    IdempotencyKey,
    Order,
    OrderAllocation,
    OrderEvent,
    OrderLine,
    WebhookDelivery,
)
from sales.tests.factories import order_body, stocked_sku

pytestmark = pytest.mark.django_db

URL = "/api/v1/partner/orders/"
DELETE = object()


@pytest.fixture
def client(api, sku):
    """The partner client of the `taobao` channel, with SKU00000 stocked (10).

    Server errors come back as 500 responses instead of raising in the test."""
    api.raise_request_exception = False
    return api


# --- helpers -----------------------------------------------------------------------------

def snapshot() -> dict:
    """Everything an order intake may write."""
    levels = StockLevel.objects.aggregate(on_hand=Sum("on_hand"), reserved=Sum("reserved"))
    return {
        "orders": Order.objects.count(),
        "lines": OrderLine.objects.count(),
        "events": OrderEvent.objects.count(),
        "allocations": OrderAllocation.objects.count(),
        "customers": Customer.objects.count(),
        "idempotency_keys": IdempotencyKey.objects.count(),
        "webhooks": WebhookDelivery.objects.count(),
        "movements": StockMovement.objects.count(),
        "on_hand": levels["on_hand"] or 0,
        "reserved": levels["reserved"] or 0,
    }


def post_raw(client, payload, *, key: str | None = "key-1"):
    extra = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(URL, data=payload, content_type="application/json", **extra)


def post_json(client, body, *, key: str | None = "key-1"):
    """ASCII-escaped JSON: a lone surrogate travels as `\\ud800`, as a partner's
    JSON library would send it."""
    return post_raw(client, json.dumps(body, ensure_ascii=True), key=key)


def changed(body: dict, path: str, value) -> dict:
    """A deep copy of `body` with `path` (`lines.0.quantity`) set or deleted."""
    body = copy.deepcopy(body)
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    target = body
    for part in parents:
        target = target[part]
    if value is DELETE:
        del target[last]
    else:
        target[last] = value
    return body


def assert_error_shape(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    data = response.json()
    assert set(data) == {"code", "message", "fields"}, data
    assert data["code"] == code, data
    assert isinstance(data["message"], str) and data["message"]
    assert isinstance(data["fields"], dict)
    for path, messages in data["fields"].items():
        assert isinstance(path, str)
        assert isinstance(messages, list) and messages
        assert all(isinstance(message, str) and message for message in messages)
    return data


def assert_invalid(response, field: str | None, before: dict) -> dict:
    """400 `invalid`, exactly `field` named (any field when None), nothing written."""
    data = assert_error_shape(response, 400, "invalid")
    if field is None:
        assert data["fields"], data
    else:
        assert list(data["fields"]) == [field], data["fields"]
    assert snapshot() == before
    return data


def window(start_offset_hours: float, end_offset_hours: float) -> dict:
    base = timezone.now() + timedelta(days=1)
    return {"start": (base + timedelta(hours=start_offset_hours)).isoformat(),
            "end": (base + timedelta(hours=end_offset_hours)).isoformat()}


# --- the valid baseline ----------------------------------------------------------------------

def test_baseline_body_is_accepted(client):
    """The invalid cases below differ from this body in one place only."""
    response = post_json(client, order_body(delivery_window=window(0, 2), note="请放门口"))
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "confirmed"


def test_optional_fields_may_be_omitted(client):
    body = order_body()
    body["customer"].pop("email")
    body["shipping_address"].pop("lat")
    body["shipping_address"].pop("lng")
    assert "delivery_window" not in body and "note" not in body
    response = post_json(client, body)
    assert response.status_code == 201, response.content


def test_optional_fields_may_be_null_or_blank(client):
    body = order_body(delivery_window=None, note="")
    body["customer"]["email"] = ""
    body["shipping_address"].update(lat=None, lng=None)
    response = post_json(client, body)
    assert response.status_code == 201, response.content
    assert response.json()["delivery_window"] is None


# --- malformed requests -----------------------------------------------------------------------

@pytest.mark.parametrize("payload", [
    b'{"external_id": "EXT-1",',
    b"not json at all",
    b"{'external_id': 'EXT-1'}",
    b'{"external_id": "EXT-1"}}',
    b'{"lines": [{"sku": "SKU00000", "quantity": NaN, "unit_price": "1.00"}]}',
    b'{"paid_amount": Infinity}',
    b'{"external_id": "\xff\xfe"}',
    b"[1, 2",
], ids=["truncated", "text", "single-quotes", "trailing-brace", "NaN", "Infinity",
        "invalid-utf8", "unclosed-array"])
def test_malformed_json_is_400_parse_error(client, payload):
    before = snapshot()
    response = post_raw(client, payload)
    assert_error_shape(response, 400, "parse_error")
    assert snapshot() == before


@pytest.mark.parametrize("payload", ["[]", '"an order"', "42", "null", "{}", ""],
                         ids=["array", "string", "number", "null", "empty-object", "empty"])
def test_body_that_is_not_an_order_is_400(client, payload):
    before = snapshot()
    data = assert_invalid(post_raw(client, payload), None, before)
    assert data["fields"]


def test_empty_object_names_every_required_field(client):
    before = snapshot()
    data = assert_invalid(post_raw(client, "{}"), None, before)
    assert set(data["fields"]) == {"external_id", "customer", "lines", "shipping_address",
                                   "fulfilment", "paid_amount"}


# --- one bad field at a time -----------------------------------------------------------------

LINE_SKU, QTY, PRICE = "lines.0.sku", "lines.0.quantity", "lines.0.unit_price"

BAD_FIELDS = [
    # unknown / unusable SKUs
    ("lines.0.sku", "NO-SUCH-SKU", LINE_SKU),
    ("lines.0.sku", "", LINE_SKU),
    ("lines.0.sku", None, LINE_SKU),
    ("lines.0.sku", "sku00000", LINE_SKU),
    # quantities
    ("lines.0.quantity", 0, QTY),
    ("lines.0.quantity", -1, QTY),
    ("lines.0.quantity", -(10 ** 6), QTY),
    ("lines.0.quantity", 10 ** 6, QTY),
    ("lines.0.quantity", 10 ** 30, QTY),
    ("lines.0.quantity", 2 ** 63, QTY),
    ("lines.0.quantity", 1.5, QTY),
    ("lines.0.quantity", "three", QTY),
    ("lines.0.quantity", "9" * 2000, QTY),
    ("lines.0.quantity", None, QTY),
    ("lines.0.quantity", True, QTY),
    ("lines.0.quantity", [1], QTY),
    # unit prices: a decimal string, at most 2 places, not negative
    ("lines.0.unit_price", "12.34567", PRICE),
    ("lines.0.unit_price", "12.345", PRICE),
    ("lines.0.unit_price", 12.34, PRICE),
    ("lines.0.unit_price", 12, PRICE),
    ("lines.0.unit_price", "-0.01", PRICE),
    ("lines.0.unit_price", "-99.00", PRICE),
    ("lines.0.unit_price", "abc", PRICE),
    ("lines.0.unit_price", "", PRICE),
    ("lines.0.unit_price", None, PRICE),
    ("lines.0.unit_price", "NaN", PRICE),
    ("lines.0.unit_price", "Infinity", PRICE),
    ("lines.0.unit_price", "1e400", PRICE),
    ("lines.0.unit_price", "99999999999.00", PRICE),
    ("lines.0.unit_price", {"amount": "1.00"}, PRICE),
    # paid amount: the same money rules
    ("paid_amount", 99, "paid_amount"),
    ("paid_amount", 99.0, "paid_amount"),
    ("paid_amount", "99.001", "paid_amount"),
    ("paid_amount", "-1.00", "paid_amount"),
    ("paid_amount", "", "paid_amount"),
    ("paid_amount", None, "paid_amount"),
    # delivery window
    ("delivery_window", window(2, 0), "delivery_window.end"),
    ("delivery_window", window(2, 2), "delivery_window.end"),
    ("delivery_window", {"start": window(0, 1)["start"]}, "delivery_window.end"),
    ("delivery_window", {"end": window(0, 1)["end"]}, "delivery_window.start"),
    ("delivery_window", {"start": "tomorrow", "end": window(0, 1)["end"]},
     "delivery_window.start"),
    ("delivery_window", {"start": window(0, 1)["start"], "end": "2026-13-40T99:00:00"},
     "delivery_window.end"),
    ("delivery_window", "tomorrow morning", "delivery_window.non_field_errors"),
    # missing required fields
    ("external_id", DELETE, "external_id"),
    ("customer", DELETE, "customer"),
    ("customer.name", DELETE, "customer.name"),
    ("customer.phone", DELETE, "customer.phone"),
    ("lines", DELETE, "lines"),
    ("lines.0.sku", DELETE, LINE_SKU),
    ("lines.0.quantity", DELETE, QTY),
    ("lines.0.unit_price", DELETE, PRICE),
    ("shipping_address", DELETE, "shipping_address"),
    ("shipping_address.province", DELETE, "shipping_address.province"),
    ("shipping_address.city", DELETE, "shipping_address.city"),
    ("shipping_address.district", DELETE, "shipping_address.district"),
    ("shipping_address.line1", DELETE, "shipping_address.line1"),
    ("fulfilment", DELETE, "fulfilment"),
    ("paid_amount", DELETE, "paid_amount"),
    # null / blank / wrong type for required things
    ("external_id", None, "external_id"),
    ("external_id", "", "external_id"),
    ("external_id", "   ", "external_id"),
    ("external_id", {"id": 1}, "external_id"),
    ("customer", "张三", "customer.non_field_errors"),
    ("customer", None, "customer"),
    ("customer.name", "", "customer.name"),
    ("lines", [], "lines"),
    ("lines", "SKU00000", "lines"),
    ("lines", None, "lines"),
    ("lines", [1], "lines.0.non_field_errors"),
    ("shipping_address", None, "shipping_address"),
    ("shipping_address.city", "", "shipping_address.city"),
    # phones and e-mails
    ("customer.phone", "", "customer.phone"),
    ("customer.phone", "call me", "customer.phone"),
    ("customer.phone", "１３８００１３８０００", "customer.phone"),
    ("customer.phone", "1" * 21, "customer.phone"),
    ("customer.email", "not-an-email", "customer.email"),
    # fulfilment and priority are closed lists
    ("fulfilment", "drone", "fulfilment"),
    ("fulfilment", "Delivery", "fulfilment"),
    ("fulfilment", "", "fulfilment"),
    ("fulfilment", None, "fulfilment"),
    ("fulfilment", ["delivery"], "fulfilment"),
    ("priority", "vip", "priority"),
    # coordinates
    ("shipping_address.lat", "90.000001", "shipping_address.lat"),
    ("shipping_address.lat", "91", "shipping_address.lat"),
    ("shipping_address.lat", "-90.5", "shipping_address.lat"),
    ("shipping_address.lat", "north", "shipping_address.lat"),
    ("shipping_address.lng", "180.000001", "shipping_address.lng"),
    ("shipping_address.lng", "-181", "shipping_address.lng"),
    # overlong strings (limits counted in characters)
    ("external_id", "x" * 65, "external_id"),
    ("external_id", "订" * 65, "external_id"),
    ("customer.name", "名" * 101, "customer.name"),
    ("lines.0.sku", "S" * 65, LINE_SKU),
    ("shipping_address.province", "省" * 51, "shipping_address.province"),
    ("shipping_address.city", "市" * 51, "shipping_address.city"),
    ("shipping_address.district", "区" * 51, "shipping_address.district"),
    ("shipping_address.line1", "路" * 256, "shipping_address.line1"),
    ("note", "注" * 501, "note"),
    ("customer.email", "a" * 250 + "@example.com", "customer.email"),
]


@pytest.mark.parametrize(("path", "value", "field"), BAD_FIELDS,
                         ids=[f"{path}={value!r:.30}" if value is not DELETE else
                              f"{path}-missing" for path, value, _f in BAD_FIELDS])
def test_bad_field_is_400_naming_the_field_and_writes_nothing(client, path, value, field):
    before = snapshot()
    response = post_json(client, changed(order_body(), path, value))
    assert_invalid(response, field, before)


def test_error_in_a_later_line_names_that_line(client):
    body = order_body()
    body["lines"] += [{"sku": "SKU00000", "quantity": 1, "unit_price": "1.00"},
                      {"sku": "GHOST", "quantity": 0, "unit_price": "1.00"}]
    before = snapshot()
    data = assert_invalid(post_json(client, body), None, before)
    assert set(data["fields"]) == {"lines.2.quantity"}


def test_unknown_sku_in_a_later_line_names_that_line(client):
    body = order_body()
    body["lines"] += [{"sku": "SKU00000", "quantity": 1, "unit_price": "1.00"},
                      {"sku": "GHOST", "quantity": 1, "unit_price": "1.00"}]
    before = snapshot()
    assert_invalid(post_json(client, body), "lines.2.sku", before)


def test_inactive_sku_is_unknown(client, warehouse):
    stocked_sku(location=warehouse, quantity=5, code="RETIRED", is_active=False)
    before = snapshot()
    assert_invalid(post_json(client, order_body(sku="RETIRED")), LINE_SKU, before)


def test_several_bad_fields_are_all_named(client):
    body = order_body(fulfilment="drone")
    body["lines"][0].update(quantity=0, unit_price=1.5)
    body["customer"].pop("phone")
    body["delivery_window"] = window(3, 1)
    before = snapshot()
    data = assert_invalid(post_json(client, body), None, before)
    assert set(data["fields"]) == {"fulfilment", QTY, PRICE, "customer.phone",
                                   "delivery_window.end"}


def test_money_as_json_number_gets_a_message_saying_so(client):
    before = snapshot()
    data = assert_invalid(post_json(client, changed(order_body(), PRICE, 99.0)), PRICE, before)
    assert "12.50" in data["fields"][PRICE][0]


# --- sizes ----------------------------------------------------------------------------------------

def test_ten_thousand_lines_are_refused(client):
    body = order_body()
    body["lines"] = [{"sku": "SKU00000", "quantity": 1, "unit_price": "1.00"}] * 10_000
    body["paid_amount"] = "10000.00"
    before = snapshot()
    assert_invalid(post_json(client, body), "lines", before)


def test_two_hundred_and_one_lines_are_refused(client):
    body = order_body()
    body["lines"] = [{"sku": "SKU00000", "quantity": 1, "unit_price": "1.00"}] * 201
    body["paid_amount"] = "201.00"
    before = snapshot()
    assert_invalid(post_json(client, body), "lines", before)


def test_two_hundred_lines_are_accepted(client):
    body = order_body()
    body["lines"] = [{"sku": "SKU00000", "quantity": 1, "unit_price": "1.00"}] * 200
    body["paid_amount"] = "200.00"
    response = post_json(client, body)
    assert response.status_code == 201, response.content
    assert len(response.json()["lines"]) == 200
    # 200 units wanted, 10 on hand: taken, but as an exception, nothing reserved
    assert response.json()["status"] == "exception"
    assert response.json()["exception_reason"] == "insufficient_stock"


@pytest.mark.parametrize(("unit_price", "quantity", "lines"), [
    ("9999999999.99", 9999, 1),
    ("9999999999.99", 1, 200),
    ("5000000000.00", 2, 1),
], ids=["price-x-quantity", "many-max-lines", "just-over"])
def test_order_total_beyond_the_money_range_is_400_not_500(client, unit_price, quantity, lines):
    """Each price and quantity is within its own limit, but the total does not
    fit the money columns (12 digits): a 400, never a database error."""
    body = order_body(unit_price=unit_price, quantity=quantity)
    body["lines"] = body["lines"] * lines
    body["paid_amount"] = unit_price
    before = snapshot()
    assert_invalid(post_json(client, body), None, before)


# --- Idempotency-Key header -----------------------------------------------------------------

@pytest.mark.parametrize("key", [None, "", "   ", "k" * 256],
                         ids=["missing", "empty", "blank", "too-long"])
def test_missing_or_unusable_idempotency_key_is_400_naming_the_header(client, key):
    before = snapshot()
    response = post_json(client, order_body(), key=key)
    data = assert_error_shape(response, 400, "idempotency_key_required")
    assert "Idempotency-Key" in data["fields"]
    assert snapshot() == before


def test_idempotency_key_of_255_characters_is_accepted(client):
    response = post_json(client, order_body(), key="k" * 255)
    assert response.status_code == 201, response.content


def test_refused_body_does_not_burn_the_idempotency_key(client):
    """A 400 stores nothing, so the corrected request with the same key goes through."""
    before = snapshot()
    assert_invalid(post_json(client, changed(order_body(), QTY, 0), key="fix-me"), QTY, before)
    response = post_json(client, order_body(), key="fix-me")
    assert response.status_code == 201, response.content


# --- unicode -------------------------------------------------------------------------------------

UNICODE_TEXTS = {
    "chinese": "榕通零售·上海市浦东新区世纪大道",
    "traditional": "線上線下銷售部融合管理制度",
    "emoji": "🛒📦 👩‍💻 🇨🇳 👍🏽",
    "rtl-hebrew": "שלום עולם",
    "rtl-arabic": "مرحبا بالعالم ١٢٣",
    "mixed-bidi": "订单 order \u202bעברית\u202c 😀 عربى",
    "combining": "Cafe\u0301 e\u0301 A\u030a",
    "zero-width": "零\u200b宽\u200d字\u2060符",
    "astral-cjk": "𠮷野家 𩸽",
}


def unicode_body(text: str, sku_code: str) -> dict:
    body = order_body(external_id=f"ID-{text}", sku=sku_code, note=f"备注：{text}")
    body["customer"] = {"name": text, "phone": "13912345678", "email": "zhang@例子.中国"}
    body["shipping_address"] = {"province": text[:50], "city": text[:50],
                                "district": text[:50], "line1": f"{text} 1 号",
                                "lat": "31.230000", "lng": "121.470000"}
    return body


@pytest.mark.parametrize("text", list(UNICODE_TEXTS.values()), ids=list(UNICODE_TEXTS))
def test_unicode_text_is_accepted_and_round_trips_exactly(client, warehouse, text):
    sku_code = f"裙-{text}"[:64]
    stocked_sku(location=warehouse, quantity=5, code=sku_code, name=f"连衣裙 {text}")
    body = unicode_body(text, sku_code)

    response = post_json(client, body)  # emoji travel as escaped surrogate pairs

    assert response.status_code == 201, response.content
    created = response.json()
    assert created["external_id"] == f"ID-{text}"
    assert created["lines"][0]["sku"] == sku_code
    assert created["lines"][0]["name"] == f"连衣裙 {text}"
    assert created["status"] == "confirmed"
    # the replies are UTF-8 JSON carrying the same code points
    assert json.loads(response.content.decode("utf-8")) == created

    detail = client.get(f"{URL}{created['number']}/")
    assert detail.status_code == 200
    assert detail.json()["external_id"] == f"ID-{text}"
    assert detail.json()["lines"][0]["sku"] == sku_code

    order = Order.objects.select_related("customer").get(number=created["number"])
    assert order.external_id == f"ID-{text}"
    assert (order.province, order.city, order.district) == (text[:50],) * 3
    assert order.line1 == f"{text} 1 号"
    assert order.note == f"备注：{text}"
    assert order.customer.name == text
    assert order.customer.email == "zhang@例子.中国"

    cancel = client.post(f"{URL}{created['number']}/cancel/", {"reason": text}, format="json")
    assert cancel.status_code == 200, cancel.content
    timeline = client.get(f"{URL}{created['number']}/tracking/").json()["timeline"]
    assert timeline[-1]["status"] == "cancelled"
    assert timeline[-1]["reason"] == text


def test_unicode_sent_unescaped_as_utf8_round_trips(client):
    text = "张三 🧧 مرحبا שלום"
    body = order_body(external_id=text, note=text)
    response = post_raw(client, json.dumps(body, ensure_ascii=False).encode("utf-8"))
    assert response.status_code == 201, response.content
    assert response.json()["external_id"] == text
    assert Order.objects.get(external_id=text).note == text


@pytest.mark.parametrize(("path", "value"), [
    ("external_id", "😀" * 64),
    ("customer.name", "名" * 100),
    ("shipping_address.province", "省" * 50),
    ("shipping_address.city", "市" * 50),
    ("shipping_address.district", "区" * 50),
    ("shipping_address.line1", "路" * 255),
    ("note", "🎁" * 500),
], ids=["external_id", "name", "province", "city", "district", "line1", "note"])
def test_text_at_its_length_limit_is_accepted(client, path, value):
    response = post_json(client, changed(order_body(), path, value))
    assert response.status_code == 201, response.content
    order = Order.objects.select_related("customer").get()
    stored = {"external_id": order.external_id, "customer.name": order.customer.name,
              "shipping_address.province": order.province,
              "shipping_address.city": order.city,
              "shipping_address.district": order.district,
              "shipping_address.line1": order.line1, "note": order.note}
    assert stored[path] == value


def test_sku_code_at_its_length_limit_round_trips(client, warehouse):
    code = "码" * 64
    stocked_sku(location=warehouse, quantity=3, code=code)
    response = post_json(client, order_body(sku=code))
    assert response.status_code == 201, response.content
    assert response.json()["lines"][0]["sku"] == code


TEXT_FIELDS = {
    "external_id": "ab{}cd",
    "customer.name": "张{}三",
    "customer.email": "zhang{}@example.com",
    "lines.0.sku": "SKU{}00000",
    "shipping_address.province": "上海{}市",
    "shipping_address.city": "上海{}市",
    "shipping_address.district": "浦东{}新区",
    "shipping_address.line1": "世纪大道{} 1 号",
    "note": "请放{}门口",
}
BAD_CHARACTERS = {"NUL": "\x00", "lone-high-surrogate": "\ud800",
                  "lone-low-surrogate": "\udfff", "reversed-pair": "\ude00\ud83d"}


@pytest.mark.parametrize("bad", list(BAD_CHARACTERS.values()), ids=list(BAD_CHARACTERS))
@pytest.mark.parametrize("path", list(TEXT_FIELDS))
def test_nul_and_lone_surrogates_are_refused_with_400(client, path, bad):
    body = changed(order_body(), path, TEXT_FIELDS[path].format(bad))
    before = snapshot()
    assert_invalid(post_json(client, body), path, before)


@pytest.mark.parametrize("bad", list(BAD_CHARACTERS.values()), ids=list(BAD_CHARACTERS))
def test_nul_and_lone_surrogates_in_a_cancel_reason_are_refused(client, bad):
    number = post_json(client, order_body()).json()["number"]
    before = snapshot()
    response = client.post(f"{URL}{number}/cancel/",
                           data=json.dumps({"reason": f"客户{bad}取消"}),
                           content_type="application/json")
    assert_invalid(response, "reason", before)
    assert Order.objects.get(number=number).status == "confirmed"


def test_overlong_cancel_reason_is_refused(client):
    number = post_json(client, order_body()).json()["number"]
    before = snapshot()
    response = client.post(f"{URL}{number}/cancel/", {"reason": "因" * 256}, format="json")
    assert_invalid(response, "reason", before)
    assert Order.objects.get(number=number).status == "confirmed"


@pytest.mark.parametrize("body_change", [
    lambda body: body.update(extra="x\ud800y"),
    lambda body: body["customer"].update(nickname="\udfff"),
    lambda body: body.update({"\ud800key": "value"}),
    lambda body: body["lines"][0].update(colour="红\ud800"),
], ids=["top-level", "in-customer", "in-a-key", "in-a-line"])
def test_lone_surrogate_in_an_unknown_member_is_not_a_500(client, body_change):
    """Members the contract does not know are ignored or refused — but a lone
    surrogate anywhere in the body must never crash the request."""
    body = order_body()
    body_change(body)
    before = snapshot()
    response = post_json(client, body)
    assert response.status_code in (201, 400), response.content
    if response.status_code == 400:
        assert_invalid(response, None, before)


# --- NUL and surrogates in URLs and query strings --------------------------------------------

@pytest.mark.parametrize("suffix", ["", "tracking/", "cancel/"])
@pytest.mark.parametrize("number", ["%00", "RT%00X", "%ED%A0%80"], ids=["nul", "nul-inside",
                                                                         "surrogate-utf8"])
def test_order_number_with_nul_or_surrogate_is_404_not_500(client, number, suffix):
    post_json(client, order_body())
    before = snapshot()
    method = client.post if suffix == "cancel/" else client.get
    response = method(f"{URL}{number}/{suffix}")
    assert response.status_code in (400, 404), response.content
    assert_error_shape(response, response.status_code, response.json()["code"])
    assert snapshot() == before


@pytest.mark.parametrize("query", ["sku=%00", "sku=SKU%0000000", "sku=%ED%A0%80"],
                         ids=["nul", "nul-inside", "surrogate-utf8"])
def test_stock_filter_with_nul_or_surrogate_is_not_a_500(client, query):
    response = client.get(f"/api/v1/partner/stock/?{query}")
    assert response.status_code in (200, 400), response.content
    if response.status_code == 200:
        assert response.json()["results"] == []
    else:
        assert_error_shape(response, 400, "invalid")


@pytest.mark.parametrize("query", ["status=%00", "created_after=%00", "created_before=2026%00",
                                   "status=%ED%A0%80"])
def test_order_filters_with_nul_or_surrogate_are_400(client, query):
    response = client.get(f"{URL}?{query}")
    data = assert_error_shape(response, 400, "invalid")
    assert list(data["fields"]) == [query.split("=")[0]]


# --- nothing leaks from a refused request into the next one -----------------------------------

def test_refused_requests_leave_stock_available_untouched(client):
    for path, value in [(QTY, 0), (PRICE, 1.5), ("lines.0.sku", "GHOST"),
                        ("customer.name", "\x00")]:
        post_json(client, changed(order_body(), path, value))
    stock = client.get("/api/v1/partner/stock/", {"sku": "SKU00000"}).json()["results"]
    assert stock == [{"sku": "SKU00000", "name": Sku.objects.get(code="SKU00000").name,
                      "available": 10}]
