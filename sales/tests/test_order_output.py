"""`order_out` (the intake's reply, built by hand) equals `OrderOut`."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sales.api.order_output import order_out
from sales.api.serializers import OrderOut
from sales.models import Order
from sales.tests.factories import order_body

pytestmark = pytest.mark.django_db

URL = "/api/v1/partner/orders/"


def post(api, body, key):
    response = api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 201, response.json()
    return Order.objects.get(number=response.json()["number"])


def test_reply_equals_order_out_for_confirmed_exception_and_windowed_orders(api, sku):
    start = timezone.now().replace(microsecond=123456) + timedelta(days=1)
    orders = [
        post(api, order_body(external_id="E-1", quantity=2), "k1"),
        post(api, order_body(external_id="E-2", paid_amount="1.00"), "k2"),  # exception
        post(api, order_body(external_id="E-3", note="备注", priority="urgent",
                             delivery_window={"start": start.isoformat(),
                                              "end": (start + timedelta(hours=2)).isoformat()}),
             "k3"),
    ]
    assert orders[1].status == "exception"
    for order in orders:
        assert order_out(order) == OrderOut(order).data  # lines read from the database
        assert list(order_out(order)) == list(OrderOut(order).data)


def test_http_reply_is_order_out(api, sku):
    response = api.post(URL, order_body(external_id="E-9"), format="json",
                        HTTP_IDEMPOTENCY_KEY="k9")
    order = Order.objects.get(number=response.json()["number"])
    assert response.json() == OrderOut(order).data
