"""`order_in_fast` (the intake's fast path for valid bodies) agrees with the
contract, `OrderIn`: whatever it returns is exactly OrderIn's validated data,
and it returns nothing for a body OrderIn refuses (OrderIn then explains)."""

import copy

import pytest

from sales.api.order_input import order_in_fast
from sales.api.serializers import OrderIn
from sales.tests.factories import order_body

pytestmark = pytest.mark.django_db

WINDOW = {"start": "2026-11-24T10:00:00+08:00", "end": "2026-11-24T12:00:00+08:00"}


def with_(body: dict, path: str, value) -> dict:
    """A copy of `body` with `path` ("customer.email", "lines.0.quantity")
    set to `value`, or removed when value is DELETE."""
    body = copy.deepcopy(body)
    *parents, last = path.split(".")
    node = body
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    key = int(last) if isinstance(node, list) else last
    if value is DELETE:
        del node[key]
    else:
        node[key] = value
    return body


DELETE = object()

# Bodies the fast path must take itself (the shapes partners send).
COMMON = [
    {},
    {"delivery_window": WINDOW, "fulfilment": "delivery"}, {"fulfilment": "pickup"},
    {"delivery_window": None},
    {"note": "  放在门卫处 🙂 שלום  ", "priority": "member"},
    {"customer": {"name": " 王 五 ", "phone": "+86 138-0013-8000"}},
    {"customer": {"name": "王五", "phone": "13800138000", "email": "   "}},
    {"shipping_address": {"province": "浙江省", "city": "杭州市", "district": "西湖区",
                          "line1": "文三路 1 号"}},
    {"shipping_address": {"province": "浙江省", "city": "杭州市", "district": "西湖区",
                          "line1": "文三路 1 号", "lat": None, "lng": "-179.999999"}},
    {"external_id": "E" * 64, "extra_member": {"ignored": True}},
]

# One change each to a valid body: some OrderIn accepts after coercing (the
# fast path leaves those to it), most it refuses.
CHANGES = [
    ("lines.0.quantity", "2"), ("lines.0.quantity", 2.0), ("lines.0.quantity", True),
    ("lines.0.quantity", 0), ("lines.0.quantity", -1), ("lines.0.quantity", 10_000),
    ("lines.0.quantity", None), ("lines.0.quantity", DELETE),
    ("lines.0.unit_price", " 99.00 "), ("lines.0.unit_price", "99.00001"),
    ("lines.0.unit_price", 99.0), ("lines.0.unit_price", "1e2"), ("lines.0.unit_price", "-1"),
    ("lines.0.unit_price", "NaN"), ("lines.0.unit_price", "99999999999.00"),
    ("lines.0.sku", "NO-SUCH-SKU"), ("lines.0.sku", ""), ("lines.0.sku", 7),
    ("lines.0.sku", "SKU00000\x00"), ("lines", []), ("lines", "SKU00000"),
    ("lines", [{"sku": "SKU00000", "quantity": 1, "unit_price": "99.00"}] * 201),
    ("lines.0", "not an object"),
    ("paid_amount", "99"), ("paid_amount", 99), ("paid_amount", "99.999"),
    ("paid_amount", DELETE),
    ("external_id", 12345), ("external_id", "  "), ("external_id", "E" * 65),
    ("external_id", "bad\ud800"),
    ("customer", "张三"), ("customer.name", ""), ("customer.name", "名" * 101),
    ("customer.phone", "12"), ("customer.phone", " 13800138000 "),
    ("customer.phone", "1380013800012345678901"), ("customer.email", "not-an-email"),
    ("customer.email", None), ("customer.email", DELETE),
    ("shipping_address", None), ("shipping_address.lat", 31.23),
    ("shipping_address.lat", "91"), ("shipping_address.lng", "181.0"),
    ("shipping_address.lat", "31.2300001"), ("shipping_address.lat", DELETE),
    ("shipping_address.line1", "路" * 256), ("shipping_address.city", None),
    ("fulfilment", "teleport"), ("fulfilment", None), ("fulfilment", DELETE),
    ("priority", "vip"), ("priority", None), ("note", None), ("note", "n" * 501),
    ("delivery_window", {"start": WINDOW["end"], "end": WINDOW["start"]}),
    ("delivery_window", {"start": "tomorrow", "end": WINDOW["end"]}),
    ("delivery_window", "10-12"),
]


def bodies():
    base = order_body()
    for overrides in COMMON:
        yield "common", {**base, **overrides}
    for path, value in CHANGES:
        yield f"{path}={value!r:.30}", with_(base, path, value)


def drf(body):
    serializer = OrderIn(data=body)
    return serializer.validated_data if serializer.is_valid() else None


@pytest.mark.parametrize(("label", "body"), list(bodies()))
def test_fast_path_agrees_with_order_in(sku, label, body):
    expected = drf(copy.deepcopy(body))
    fast = order_in_fast(copy.deepcopy(body))
    if label == "common":
        assert expected is not None, "a common body must be valid"
    if expected is None:
        assert fast is None, f"{label}: OrderIn refuses this body, the fast path took it"
        return
    if label == "common":
        assert fast is not None, "the fast path should take this valid body itself"
    if fast is not None:
        assert fast == expected
        assert [line["sku_obj"].pk for line in fast["lines"]] == [
            line["sku_obj"].pk for line in expected["lines"]]


def test_refused_bodies_are_explained_by_order_in(api, sku):
    """Through HTTP: a body the fast path leaves to OrderIn gets OrderIn's
    field errors."""
    response = api.post("/api/v1/partner/orders/",
                        with_(order_body(), "lines.0.unit_price", "99.00001"),
                        format="json", HTTP_IDEMPOTENCY_KEY="k-fast-1")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["lines.0.unit_price"]
