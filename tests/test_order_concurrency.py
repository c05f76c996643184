"""Concurrency promises of order intake, proven with competing requests
against PostgreSQL (row locks and unique indexes do the work)."""

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections, transaction
from django.test import override_settings
from rest_framework.test import APIClient

from inventory.models import StockLevel, StockMovement
from inventory.selectors import stock_ledger_drift
from sales.models import IdempotencyKey, Order
from sales.tests.factories import (
    ChannelFactory,
    LocationFactory,
    order_body,
    partner_key,
    stocked_sku,
)

URL = "/api/v1/partner/orders/"
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def setup():
    warehouse = LocationFactory(code="WH1", is_main_warehouse=True)
    channel = ChannelFactory(code="taobao")
    channel.locations.add(warehouse)
    sku = stocked_sku(location=warehouse, quantity=5, code="LAST5")
    return channel, sku, partner_key(channel)


def _post_many(key: str, bodies: list[tuple[str, dict]], workers: int = 16):
    barrier = threading.Barrier(min(workers, len(bodies)))

    def post(item):
        idem, body = item
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=10)
        try:
            response = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY=idem)
            return response.status_code, response.content
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(post, bodies))


def test_no_oversell_under_concurrent_orders(setup):
    channel, sku, key = setup
    bodies = [(f"idem-{i}", order_body(external_id=f"E{i}", sku="LAST5", quantity=1,
                                       customer={"name": "客户", "phone": f"1390000{i:04d}"},
                                       shipping_address={"province": "上海市",
                                                         "city": "上海市",
                                                         "district": f"区{i}",
                                                         "line1": f"路 {i} 号"}))
              for i in range(24)]
    results = _post_many(key, bodies)
    assert [status for status, _ in results] == [201] * 24
    statuses = list(Order.objects.values_list("status", flat=True))
    assert statuses.count("confirmed") == 5
    assert statuses.count("exception") == 19
    assert set(Order.objects.filter(status="exception")
               .values_list("exception_reason", flat=True)) == {"insufficient_stock"}
    level = StockLevel.objects.get(sku=sku)
    assert (level.on_hand, level.reserved) == (5, 5)
    assert stock_ledger_drift() == []


def test_concurrent_twins_create_one_order_with_identical_replies(setup):
    channel, sku, key = setup
    body = order_body(external_id="TWIN", sku="LAST5", quantity=2)
    results = _post_many(key, [("same-key", body)] * 8, workers=8)
    assert {status for status, _ in results} == {201}
    assert len({content for _, content in results}) == 1
    assert Order.objects.count() == 1
    assert StockLevel.objects.get(sku=sku).reserved == 2
    assert StockMovement.objects.filter(kind="reserve").count() == 1


def test_concurrent_same_external_id_different_keys_one_order(setup):
    channel, sku, key = setup
    body = order_body(external_id="DUP", sku="LAST5", quantity=1)
    results = _post_many(key, [(f"k{i}", body) for i in range(8)], workers=8)
    statuses = sorted(status for status, _ in results)
    assert statuses.count(201) == 1
    assert statuses.count(200) == 7
    assert Order.objects.count() == 1
    assert StockLevel.objects.get(sku=sku).reserved == 1


@override_settings(IDEMPOTENCY_WAIT_SECONDS=0.5)
def test_twin_still_running_answers_409(setup):
    """A twin whose first request is still inside its transaction (held open
    here by another connection) waits briefly, then answers 409."""
    channel, sku, key = setup
    body = order_body(external_id="SLOW", sku="LAST5", quantity=1)
    from sales.api.idempotency import request_fingerprint

    holding, release = threading.Event(), threading.Event()

    def first_request_in_flight():
        with transaction.atomic():
            IdempotencyKey.objects.create(channel=channel, key="slow-key",
                                          request_hash=request_fingerprint(body),
                                          response_status=0, response_body="")
            holding.set()
            release.wait(timeout=20)
            transaction.set_rollback(True)
        connection.close()

    thread = threading.Thread(target=first_request_in_flight)
    thread.start()
    try:
        assert holding.wait(timeout=10)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
        response = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="slow-key")
        assert response.status_code == 409
        assert response.json()["code"] == "request_in_progress"
        assert Order.objects.count() == 0
    finally:
        release.set()
        thread.join()
    # Once the first gave up, the same request goes through.
    response = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="slow-key")
    assert response.status_code == 201


def test_concurrent_cancel_and_orders_keep_ledger_exact(setup):
    channel, sku, key = setup
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    numbers = [client.post(URL, order_body(external_id=f"C{i}", sku="LAST5", quantity=1,
                                           customer={"name": "客户", "phone": f"1370000{i:04d}"}),
                           format="json", HTTP_IDEMPOTENCY_KEY=f"c{i}").json()["number"]
               for i in range(5)]
    barrier = threading.Barrier(10)

    def cancel(number):
        c = APIClient()
        c.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
        barrier.wait(timeout=10)
        try:
            return c.post(f"{URL}{number}/cancel/", {}, format="json").status_code
        finally:
            connections.close_all()

    def order(i):
        c = APIClient()
        c.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
        barrier.wait(timeout=10)
        try:
            return c.post(URL, order_body(external_id=f"N{i}", sku="LAST5", quantity=1,
                                          customer={"name": "客户", "phone": f"1360000{i:04d}"}),
                          format="json", HTTP_IDEMPOTENCY_KEY=f"n{i}").status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=10) as pool:
        cancels = [pool.submit(cancel, n) for n in numbers]
        orders = [pool.submit(order, i) for i in range(5)]
        assert [f.result() for f in cancels] == [200] * 5
        assert [f.result() for f in orders] == [201] * 5
    level = StockLevel.objects.get(sku=sku)
    confirmed = Order.objects.filter(status="confirmed").count()
    assert level.reserved == confirmed <= 5
    assert stock_ledger_drift() == []
