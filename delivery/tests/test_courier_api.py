"""The courier app's API: permissions on every endpoint (nothing changes
when refused), the pickup count, the hand-over code (refused and logged),
failed deliveries opening a customer-service follow-up, ratings, tracking."""

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from core.models import AuditEvent
from customer_service.models import Ticket
from delivery.dispatch.zone import dispatch_zone
from delivery.enums import DeliveryEventKind, DeliveryStatus, IssueKind, NotificationKind
from delivery.models import (
    CourierPosition,
    CustomerNotification,
    Delivery,
    DeliveryEvent,
    DeliveryIssue,
)
from delivery.policy import MAX_HANDOVER_ATTEMPTS
from delivery.tests.factories import CourierFactory, courier_client, staff_client
from inventory.models import StockLevel
from sales.enums import OrderStatus
from sales.tests.conftest import partner_client

pytestmark = pytest.mark.django_db
API = "/api/v1/courier/"


@pytest.fixture
def delivery(zone, courier, shop):
    shop.order(district="浦东新区", quantity=2)
    dispatch_zone(zone_id=zone.pk, seconds=0.2)
    return Delivery.objects.select_related("order").get()


@pytest.fixture
def mine(courier):
    return courier_client(courier)


@pytest.fixture
def other_courier(zone):
    return courier_client(CourierFactory(zones=[zone]))


def lines(delivery, quantity=None):
    return [{"sku": line.sku_code, "quantity": quantity or line.quantity}
            for line in delivery.order.lines.all()]


def picked(client, delivery):
    response = client.post(f"{API}deliveries/{delivery.pk}/pickup/",
                           {"lines": lines(delivery)}, format="json")
    assert response.status_code == 200, response.content
    return response


def state(delivery) -> tuple:
    d = Delivery.objects.get(pk=delivery.pk)
    return (d.status, d.handover_attempts, d.rating, d.failure_reason, d.order.status,
            DeliveryEvent.objects.filter(delivery=d).count(), Ticket.objects.count(),
            CourierPosition.objects.count())


# --- permissions ---------------------------------------------------------------------------

ENDPOINTS = [
    ("post", "deliveries/{id}/pickup/", lambda d: {"lines": lines(d)}),
    ("post", "deliveries/{id}/events/", lambda d: {"kind": "arriving"}),
    ("post", "deliveries/{id}/deliver/", lambda d: {"code": d.handover_code}),
    ("post", "deliveries/{id}/fail/", lambda d: {"reason": "customer_absent"}),
    ("post", "deliveries/{id}/rating/", lambda d: {"rating": 5}),
]


@pytest.mark.parametrize("method,path,body", ENDPOINTS, ids=[e[1] for e in ENDPOINTS])
@pytest.mark.parametrize("who,expected", [("anonymous", 401), ("staff_delivery", 403),
                                          ("staff_finance", 403), ("other_courier", 404)])
def test_refused_callers_change_nothing(method, path, body, who, expected, delivery,
                                        other_courier):
    client = {"anonymous": APIClient(), "staff_delivery": staff_client("delivery"),
              "staff_finance": staff_client("finance"), "other_courier": other_courier}[who]
    before = state(delivery)
    response = getattr(client, method)(API + path.format(id=delivery.pk), body(delivery),
                                       format="json")
    assert response.status_code == expected
    assert set(response.json()) == {"code", "message", "fields"}
    assert state(delivery) == before


@pytest.mark.parametrize("who,expected", [("anonymous", 401), ("staff_delivery", 403)])
def test_route_and_location_refuse_non_couriers(who, expected, delivery):
    client = APIClient() if who == "anonymous" else staff_client("delivery")
    assert client.get(f"{API}route/").status_code == expected
    assert client.post(f"{API}location/", {"lat": "31.2", "lng": "121.4"},
                       format="json").status_code == expected
    assert not CourierPosition.objects.exists()


def test_a_courier_who_left_is_refused(delivery, courier, mine):
    courier.status = "left"
    courier.save()
    assert mine.get(f"{API}route/").status_code == 403


def test_token_for_couriers_only(courier, delivery):
    courier.user.set_password("courier-pass-1")
    courier.user.save()
    client = APIClient()
    response = client.post(f"{API}token/", {"username": courier.user.username,
                                            "password": "courier-pass-1"}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get(f"{API}route/").status_code == 200
    bad = APIClient().post(f"{API}token/", {"username": courier.user.username,
                                            "password": "wrong"}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_credentials"
    User.objects.create_user("clerk", password="clerk-pass-1", is_staff=True)
    staff = APIClient().post(f"{API}token/", {"username": "clerk", "password": "clerk-pass-1"},
                             format="json")
    assert staff.status_code == 400
    assert APIClient().post(f"{API}token/", {}, format="json").status_code == 400


# --- route ---------------------------------------------------------------------------------


def test_my_route_lists_my_stops_without_the_code(delivery, mine, other_courier):
    data = mine.get(f"{API}route/").json()
    assert [stop["id"] for stop in data] == [delivery.pk]
    stop = data[0]
    assert stop["order"] == delivery.order.number
    assert stop["sequence"] == 1 and stop["status"] == "assigned"
    assert stop["lines"] == [{"sku": line.sku_code, "name": line.name, "quantity": 2}
                             for line in delivery.order.lines.all()]
    assert delivery.handover_code not in mine.get(f"{API}route/").content.decode()
    assert other_courier.get(f"{API}route/").json() == []


# --- pickup --------------------------------------------------------------------------------


def test_pickup_with_the_right_count_dispatches_the_order(delivery, mine):
    stock_before = StockLevel.objects.get().on_hand
    response = picked(mine, delivery)
    assert response.json()["status"] == "picked_up"
    delivery.refresh_from_db()
    assert delivery.picked_up_at is not None
    order = delivery.order
    order.refresh_from_db()
    assert order.status == OrderStatus.DISPATCHED
    assert [e.to_status for e in order.events.order_by("pk")][-3:] == [
        "picking", "packed", "dispatched"]
    assert StockLevel.objects.get().on_hand == stock_before - 2  # dispatch consumes


@pytest.mark.parametrize("body", [
    lambda d: {"lines": lines(d, quantity=1)},
    lambda d: {"lines": [{"sku": "NOPE", "quantity": 2}]},
    lambda d: {"lines": lines(d) + [{"sku": "EXTRA", "quantity": 1}]},
])
def test_pickup_count_mismatch_is_refused_and_logged(body, delivery, mine):
    response = mine.post(f"{API}deliveries/{delivery.pk}/pickup/", body(delivery), format="json")
    assert response.status_code == 422
    assert response.json()["code"] == "quantity_mismatch"
    assert response.json()["fields"]
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.ASSIGNED and delivery.picked_up_at is None
    assert delivery.order.status == OrderStatus.CONFIRMED
    assert DeliveryEvent.objects.filter(delivery=delivery,
                                        kind=DeliveryEventKind.PICKUP_MISMATCH).count() == 1


@pytest.mark.parametrize("body", [{}, {"lines": []}, {"lines": "x"},
                                  {"lines": [{"sku": "A", "quantity": -1}]},
                                  {"lines": [{"sku": "A", "quantity": 1},
                                             {"sku": "A", "quantity": 1}]},
                                  '{"lines": [{"sku": "\\ud800", "quantity": 1}]}'])
def test_pickup_bad_input_is_400_and_changes_nothing(body, delivery, mine):
    before = state(delivery)
    url = f"{API}deliveries/{delivery.pk}/pickup/"
    response = (mine.post(url, body, content_type="application/json") if isinstance(body, str)
                else mine.post(url, body, format="json"))
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and response.json()["fields"]
    assert state(delivery) == before


def test_pickup_of_a_cancelled_order_is_refused(delivery, mine):
    from sales.services import order_cancel

    order_cancel(order=delivery.order, reason="客户取消")
    response = mine.post(f"{API}deliveries/{delivery.pk}/pickup/", {"lines": lines(delivery)},
                         format="json")
    assert response.status_code == 409 and response.json()["code"] == "order_not_open"


# --- hand-over -----------------------------------------------------------------------------


def test_wrong_code_is_refused_and_logged(delivery, mine):
    picked(mine, delivery)
    wrong = "000000" if delivery.handover_code != "000000" else "111111"
    response = mine.post(f"{API}deliveries/{delivery.pk}/deliver/", {"code": wrong},
                         format="json")
    assert response.status_code == 422
    assert response.json()["code"] == "handover_code_invalid"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PICKED_UP and delivery.delivered_at is None
    assert delivery.handover_attempts == 1
    assert delivery.order.status == OrderStatus.DISPATCHED
    logged = DeliveryEvent.objects.get(delivery=delivery,
                                       kind=DeliveryEventKind.HANDOVER_REJECTED)
    assert logged.actor == delivery.courier.user and logged.data["attempts"] == 1
    assert AuditEvent.objects.filter(action="delivery.handover_rejected",
                                     target_id=str(delivery.pk)).count() == 1
    assert wrong not in logged.note


def test_right_code_delivers_and_advances_the_order(delivery, mine):
    picked(mine, delivery)
    response = mine.post(f"{API}deliveries/{delivery.pk}/deliver/",
                         {"code": delivery.handover_code}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "delivered"
    delivery.refresh_from_db()
    assert delivery.delivered_at and delivery.order.status == OrderStatus.DELIVERED
    assert mine.get(f"{API}route/").json() == []


def test_too_many_wrong_codes_lock_the_hand_over(delivery, mine):
    from delivery.services import delivery_handover_reset

    picked(mine, delivery)
    wrong = "000000" if delivery.handover_code != "000000" else "111111"
    url = f"{API}deliveries/{delivery.pk}/deliver/"
    for _ in range(MAX_HANDOVER_ATTEMPTS):
        assert mine.post(url, {"code": wrong}, format="json").status_code == 422
    response = mine.post(url, {"code": delivery.handover_code}, format="json")
    assert response.status_code == 423 and response.json()["code"] == "handover_locked"
    assert Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.PICKED_UP
    assert DeliveryEvent.objects.filter(kind=DeliveryEventKind.HANDOVER_REJECTED).count() == \
        MAX_HANDOVER_ATTEMPTS + 1
    dispatcher = User.objects.create_user("dispatcher", is_staff=True)
    delivery_handover_reset(delivery=delivery, actor=dispatcher)
    fresh = Delivery.objects.get(pk=delivery.pk)
    assert fresh.handover_attempts == 0
    assert CustomerNotification.objects.filter(
        delivery=delivery, kind=NotificationKind.HANDOVER_CODE).count() == 2
    assert mine.post(url, {"code": fresh.handover_code}, format="json").status_code == 200


@pytest.mark.parametrize("body", [{}, {"code": "12345"}, {"code": "abcdef"}, {"code": 123456},
                                  {"code": None}, {"code": "1234567"}])
def test_deliver_bad_input_is_400(body, delivery, mine):
    picked(mine, delivery)
    before = state(delivery)
    response = mine.post(f"{API}deliveries/{delivery.pk}/deliver/", body, format="json")
    assert response.status_code == 400
    assert state(delivery) == before


def test_deliver_before_pickup_is_409(delivery, mine):
    response = mine.post(f"{API}deliveries/{delivery.pk}/deliver/",
                         {"code": delivery.handover_code}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "invalid_transition"


# --- failed and refused deliveries -----------------------------------------------------------


def test_failed_delivery_opens_one_follow_up_and_tells_the_customer(delivery, mine):
    picked(mine, delivery)
    url = f"{API}deliveries/{delivery.pk}/fail/"
    response = mine.post(url, {"reason": "customer_absent", "note": "电话无人接听"},
                         format="json")
    assert response.status_code == 200 and response.json()["status"] == "failed"
    ticket = Ticket.objects.get()
    assert ticket.kind == Ticket.Kind.DELIVERY_FAILED and ticket.order == delivery.order
    assert ticket.source_key == f"delivery:{delivery.pk}:failed"
    assert CustomerNotification.objects.filter(kind=NotificationKind.DELIVERY_FAILED).count() == 1
    assert mine.post(url, {"reason": "customer_absent"}, format="json").status_code == 409
    assert Ticket.objects.count() == 1


def test_refusal_for_damage_counts_as_damage(delivery, mine):
    picked(mine, delivery)
    response = mine.post(f"{API}deliveries/{delivery.pk}/fail/",
                         {"reason": "refused_damaged", "note": "外箱破损"}, format="json")
    assert response.json()["status"] == "refused"
    assert Ticket.objects.get().kind == Ticket.Kind.DELIVERY_REFUSED
    assert DeliveryIssue.objects.get().kind == IssueKind.DAMAGE


@pytest.mark.parametrize("body", [{}, {"reason": "bored"}, {"reason": "other"},
                                  {"reason": "other", "note": "x" * 300}])
def test_fail_bad_input_is_400(body, delivery, mine):
    picked(mine, delivery)
    before = state(delivery)
    response = mine.post(f"{API}deliveries/{delivery.pk}/fail/", body, format="json")
    assert response.status_code == 400
    assert state(delivery) == before


# --- rating, events, location ------------------------------------------------------------------


def test_rating_once_after_delivery(delivery, mine):
    url = f"{API}deliveries/{delivery.pk}/rating/"
    assert mine.post(url, {"rating": 5}, format="json").status_code == 409
    picked(mine, delivery)
    mine.post(f"{API}deliveries/{delivery.pk}/deliver/", {"code": delivery.handover_code},
              format="json")
    for bad in ({"rating": 0}, {"rating": 6}, {"rating": "five"}, {}):
        assert mine.post(url, bad, format="json").status_code == 400
    response = mine.post(url, {"rating": 4, "comment": "准时"}, format="json")
    assert response.status_code == 200 and response.json()["rating"] == 4
    again = mine.post(url, {"rating": 5}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "already_rated"
    assert Delivery.objects.get(pk=delivery.pk).rating == 4


def test_status_events_and_bad_ones(delivery, mine):
    url = f"{API}deliveries/{delivery.pk}/events/"
    response = mine.post(url, {"kind": "arriving", "note": "5 分钟到", "lat": "31.231",
                               "lng": "121.471"}, format="json")
    assert response.status_code == 201 and response.json()["kind"] == "arriving"
    before = state(delivery)
    for bad in ({"kind": "delivered"}, {"kind": "note", "lat": "31.2"},
                {"kind": "note", "lat": "95", "lng": "121"}, {}):
        assert mine.post(url, bad, format="json").status_code == 400
    assert state(delivery) == before


def test_location_pings(courier, mine):
    response = mine.post(f"{API}location/", {"lat": "31.230100", "lng": "121.470200"},
                         format="json")
    assert response.status_code == 201
    courier.refresh_from_db()
    assert str(courier.last_lat) == "31.230100" and courier.last_seen_at is not None
    for bad in ({"lat": "91", "lng": "121"}, {"lat": "x", "lng": "1"}, {}):
        assert mine.post(f"{API}location/", bad, format="json").status_code == 400
    assert CourierPosition.objects.count() == 1


def test_malformed_json_is_400(delivery, mine):
    response = mine.post(f"{API}deliveries/{delivery.pk}/pickup/", "{nope",
                         content_type="application/json")
    assert response.status_code == 400


# --- tracking ------------------------------------------------------------------------------------


def test_partner_tracking_shows_the_courier_milestones(delivery, mine):
    picked(mine, delivery)
    mine.post(f"{API}deliveries/{delivery.pk}/events/", {"kind": "arriving"}, format="json")
    mine.post(f"{API}deliveries/{delivery.pk}/deliver/", {"code": "000000"
                                                          if delivery.handover_code != "000000"
                                                          else "111111"}, format="json")
    mine.post(f"{API}deliveries/{delivery.pk}/deliver/", {"code": delivery.handover_code},
              format="json")
    partner = partner_client(delivery.order.channel)
    data = partner.get(f"/api/v1/partner/orders/{delivery.order.number}/tracking/").json()
    assert [e["kind"] for e in data["events"]] == ["assigned", "picked_up", "arriving",
                                                   "delivered"]
    assert all(e["source"] == "courier" and e["courier"] == delivery.courier.name
               for e in data["events"])
    assert delivery.handover_code not in str(data)
    assert data["status"] == "delivered"
