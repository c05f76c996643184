"""Order webhooks end to end (SPEC §9): status changes made through the
partner API are POSTed to the channel's URL — here a real HTTP server on
127.0.0.1 — signed `X-Signature: hex(HMAC-SHA256(secret, raw body))`, and
retried with backoff by the `webhooks_deliver_due` job until they succeed or
give up after MAX_ATTEMPTS.

These tests commit (transaction=True) so that on_commit hooks fire; Celery
runs eagerly in the test settings."""

import hashlib
import hmac
import json
import socket
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from core.scheduling import job_run
from sales.enums import OrderStatus, WebhookStatus
from sales.models import Order, WebhookDelivery
from sales.services import order_advance
from sales.tests.factories import order_body
from sales.webhooks import MAX_ATTEMPTS

pytestmark = pytest.mark.django_db(transaction=True)

ORDERS = "/api/v1/partner/orders/"
SECRET = "whsec-榕通-🔑-0123456789"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body.decode("utf-8"))


@dataclass
class HookServer:
    """A partner's webhook endpoint: records every POST, answers `status`."""

    status: int = 200
    received: list[Received] = field(default_factory=list)

    def start(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                server.received.append(Received(self.path, dict(self.headers.items()), body))
                self.send_response(server.status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if server.status < 300 else b"nope")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/hooks/rongtong?src=test"

    def statuses(self) -> list[str]:
        return [r.json["order"]["status"] for r in self.received]


@pytest.fixture
def server(monkeypatch):
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                 "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    hook = HookServer()
    hook.start()
    try:
        yield hook
    finally:
        hook.stop()


@pytest.fixture
def hooked(channel, server):
    """The `taobao` channel with its webhook pointing at the local server."""
    channel.webhook_url = server.url
    channel.webhook_secret = SECRET
    channel.save(update_fields=["webhook_url", "webhook_secret"])
    return channel


def expected_signature(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def assert_signed(received: Received) -> None:
    signature = received.headers.get("X-Signature")
    assert signature, received.headers
    assert hmac.compare_digest(signature, expected_signature(received.body))
    assert signature != expected_signature(received.body, secret="another secret")
    assert signature != expected_signature(received.body + b" ")


def create(api, n: int = 1, **overrides) -> dict:
    overrides.setdefault("external_id", f"EXT-{n}")
    body = order_body(**overrides)
    body["customer"] = dict(body["customer"], phone=f"1390000{n:04d}")
    body["shipping_address"] = dict(body["shipping_address"], line1=f"世纪大道 {n} 号")
    response = api.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY=f"key-{n}")
    assert response.status_code == 201, response.content
    return response.json()


def make_due() -> None:
    WebhookDelivery.objects.filter(status=WebhookStatus.PENDING).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1))


def call_command_output(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def run_due_job() -> dict:
    return job_run(name="webhooks_deliver_due").counts


# --- delivery and signature -------------------------------------------------------------------

def test_new_order_is_posted_signed(api, hooked, server, sku):
    order = create(api, external_id="订单-😀-שלום")

    assert len(server.received) == 1
    hit = server.received[0]
    assert hit.path == "/hooks/rongtong?src=test"
    assert hit.headers["Content-Type"].startswith("application/json")
    assert_signed(hit)
    payload = hit.json
    assert payload["event"] == "order.status_changed"
    assert payload["order"]["number"] == order["number"]
    assert payload["order"]["external_id"] == "订单-😀-שלום"
    assert payload["order"]["status"] == "confirmed"
    assert payload["order"]["exception_reason"] is None
    assert payload["order"]["total"] == order["total"] == "99.00"

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookStatus.DELIVERED
    assert delivery.attempts == 1
    assert delivery.delivered_at is not None
    assert delivery.order.number == order["number"]


def test_every_status_change_is_posted_in_order(api, hooked, server, sku):
    number = create(api)["number"]
    order = Order.objects.get(number=number)
    for to_status in (OrderStatus.PICKING, OrderStatus.PACKED, OrderStatus.DISPATCHED,
                      OrderStatus.DELIVERED):
        order = order_advance(order=order, to_status=to_status, actor_label="test")

    assert server.statuses() == ["confirmed", "picking", "packed", "dispatched", "delivered"]
    for hit in server.received:
        assert_signed(hit)
        assert hit.json["order"]["number"] == number
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}


def test_cancel_through_the_api_is_posted(api, hooked, server, sku):
    number = create(api)["number"]
    response = api.post(f"{ORDERS}{number}/cancel/", {"reason": "客户取消"}, format="json")
    assert response.status_code == 200
    assert server.statuses() == ["confirmed", "cancelled"]
    assert_signed(server.received[-1])


def test_exception_order_is_posted_with_its_reason(api, hooked, server, sku):
    create(api, quantity=99)
    assert server.statuses() == ["exception"]
    assert server.received[0].json["order"]["exception_reason"] == "insufficient_stock"
    assert_signed(server.received[0])


def test_refused_cancel_and_replays_post_nothing(api, hooked, server, sku):
    body = order_body()
    first = api.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="same")
    number = first.json()["number"]
    api.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="same")  # replay
    api.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="other")  # same external id
    order = Order.objects.get(number=number)
    for to_status in (OrderStatus.PICKING, OrderStatus.PACKED, OrderStatus.DISPATCHED):
        order = order_advance(order=order, to_status=to_status)
    count = len(server.received)
    assert api.post(f"{ORDERS}{number}/cancel/", {}, format="json").status_code == 409
    assert api.get(f"{ORDERS}{number}/tracking/").status_code == 200
    assert len(server.received) == count == 4
    assert WebhookDelivery.objects.count() == 4


def test_channel_without_webhook_url_gets_no_deliveries(api, channel, server, sku):
    assert channel.webhook_url == ""
    number = create(api)["number"]
    api.post(f"{ORDERS}{number}/cancel/", {}, format="json")
    create(api, 2, quantity=99)
    assert WebhookDelivery.objects.count() == 0
    assert server.received == []
    assert run_due_job()["delivered"] == 0


def test_only_the_orders_channel_is_notified(api, other_api, hooked, server, sku):
    create(other_api, 7)
    assert server.received == []
    assert WebhookDelivery.objects.count() == 0
    create(api, 1)
    assert len(server.received) == 1
    assert WebhookDelivery.objects.get().channel == hooked


# --- failures, backoff, retries -----------------------------------------------------------------

def test_failing_endpoint_leaves_a_pending_delivery_with_backoff(api, hooked, server, sku):
    server.status = 500
    before = timezone.now()

    order = create(api)  # the partner's outage does not fail its order

    assert order["status"] == "confirmed"
    assert len(server.received) == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookStatus.PENDING
    assert delivery.attempts == 1
    assert "500" in delivery.last_error
    assert delivery.delivered_at is None
    assert delivery.next_attempt_at > timezone.now()
    assert delivery.next_attempt_at >= before + timedelta(seconds=10)
    assert delivery.next_attempt_at <= timezone.now() + timedelta(hours=1)

    # not due yet: the job leaves it alone
    counts = run_due_job()
    assert counts["delivered"] == 0
    assert len(server.received) == 1
    assert WebhookDelivery.objects.get().attempts == 1


def test_due_retry_delivers_the_same_signed_body(api, hooked, server, sku):
    server.status = 503
    create(api)
    first = server.received[0]

    server.status = 200
    make_due()
    out = call_command_output("run_job", "webhooks_deliver_due")

    assert "delivered=1" in out
    assert len(server.received) == 2
    retry = server.received[1]
    assert retry.body == first.body
    assert retry.headers["X-Signature"] == first.headers["X-Signature"]
    assert_signed(retry)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (WebhookStatus.DELIVERED, 2)
    assert delivery.delivered_at is not None
    assert delivery.last_error == ""

    # delivered means done: later runs post nothing
    make_due()
    run_due_job()
    assert len(server.received) == 2


def test_backoff_grows_between_attempts(api, hooked, server, sku):
    server.status = 500
    create(api)
    waits = []
    for _attempt in range(3):
        delivery = WebhookDelivery.objects.get()
        waits.append(delivery.next_attempt_at - timezone.now())
        make_due()
        run_due_job()
    assert WebhookDelivery.objects.get().attempts == 4
    assert waits[0] < waits[1] < waits[2]
    assert all(wait > timedelta(0) for wait in waits)


def test_gives_up_after_max_attempts(api, hooked, server, sku):
    server.status = 500
    create(api)
    for _attempt in range(MAX_ATTEMPTS - 1):
        assert WebhookDelivery.objects.get().status == WebhookStatus.PENDING
        make_due()
        run_due_job()

    delivery = WebhookDelivery.objects.get()
    assert delivery.attempts == MAX_ATTEMPTS
    assert delivery.status == WebhookStatus.FAILED
    assert delivery.delivered_at is None
    assert "500" in delivery.last_error
    assert len(server.received) == MAX_ATTEMPTS
    for hit in server.received:
        assert_signed(hit)

    # a failed delivery is not retried any more, even when the endpoint recovers
    server.status = 200
    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    run_due_job()
    assert len(server.received) == MAX_ATTEMPTS
    assert WebhookDelivery.objects.get().status == WebhookStatus.FAILED


def test_unreachable_endpoint_is_retried_later(api, hooked, server, sku):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    hooked.webhook_url = f"http://127.0.0.1:{closed_port}/hook"
    hooked.save(update_fields=["webhook_url"])

    order = create(api)

    assert order["status"] == "confirmed"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (WebhookStatus.PENDING, 1)
    assert delivery.last_error
    assert delivery.next_attempt_at > timezone.now()

    hooked.webhook_url = server.url
    hooked.save(update_fields=["webhook_url"])
    make_due()
    run_due_job()
    assert WebhookDelivery.objects.get().status == WebhookStatus.DELIVERED
    assert len(server.received) == 1
    assert_signed(server.received[0])


def test_each_failing_delivery_keeps_its_own_schedule(api, hooked, server, sku):
    server.status = 500
    first = create(api, 1)["number"]
    create(api, 2)
    WebhookDelivery.objects.filter(order__number=first).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1))
    server.status = 200
    run_due_job()
    states = dict(WebhookDelivery.objects.values_list("order__number", "status"))
    assert states[first] == WebhookStatus.DELIVERED
    assert sorted(states.values()) == [WebhookStatus.DELIVERED, WebhookStatus.PENDING]
