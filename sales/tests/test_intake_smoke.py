import pytest

from inventory.models import StockLevel
from sales.models import Order
from sales.tests.factories import order_body

URL = "/api/v1/partner/orders/"


@pytest.mark.django_db
def test_order_is_created_confirmed_and_reserves_stock(api, sku):
    response = api.post(URL, order_body(quantity=3), format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "confirmed"
    assert body["exception_reason"] is None
    assert body["total"] == "297.00"
    assert body["lines"][0] == {"sku": "SKU00000", "name": sku.name, "quantity": 3,
                                "unit_price": "99.00", "discount": "0.00",
                                "line_total": "297.00"}
    level = StockLevel.objects.get(sku=sku)
    assert (level.on_hand, level.reserved) == (10, 3)


@pytest.mark.django_db
def test_insufficient_stock_is_201_exception(api, sku):
    response = api.post(URL, order_body(quantity=11), format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert response.status_code == 201
    assert response.json()["status"] == "exception"
    assert response.json()["exception_reason"] == "insufficient_stock"
    assert StockLevel.objects.get(sku=sku).reserved == 0


@pytest.mark.django_db
def test_cancel_releases_stock(api, sku):
    number = api.post(URL, order_body(quantity=2), format="json",
                      HTTP_IDEMPOTENCY_KEY="k1").json()["number"]
    response = api.post(f"{URL}{number}/cancel/", {"reason": "客户取消"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert StockLevel.objects.get(sku=sku).reserved == 0
    assert Order.objects.get(number=number).events.count() == 3


@pytest.mark.django_db
def test_return_request_for_delivered_order(api, sku):
    from sales.services import order_advance

    number = api.post(URL, order_body(quantity=2), format="json",
                      HTTP_IDEMPOTENCY_KEY="k1").json()["number"]
    early = api.post(f"{URL}{number}/returns/", {"kind": "return",
                                                  "lines": [{"sku": "SKU00000", "quantity": 1}]},
                     format="json")
    assert early.status_code == 409
    assert early.json()["code"] == "order_not_returnable"
    order = Order.objects.get(number=number)
    for step in ("picking", "packed", "dispatched", "delivered"):
        order = order_advance(order=order, to_status=step)
    too_many = api.post(f"{URL}{number}/returns/", {"kind": "return",
                                                     "lines": [{"sku": "SKU00000",
                                                                "quantity": 3}]}, format="json")
    assert too_many.status_code == 400
    assert "lines.0.quantity" in too_many.json()["fields"]
    ok = api.post(f"{URL}{number}/returns/", {"kind": "exchange", "reason": "尺码不合适",
                                               "lines": [{"sku": "SKU00000", "quantity": 2}]},
                  format="json")
    assert ok.status_code == 201, ok.json()
    assert ok.json()["within_no_reason_window"] is True
    assert ok.json()["lines"] == [{"sku": "SKU00000", "quantity": 2}]
    level = StockLevel.objects.get(sku=sku)
    assert (level.on_hand, level.reserved) == (8, 0)
