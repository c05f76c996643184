"""The delivery staff API: a dispatcher's manual move, shipments, carrier
tracking events (one by one and as a CSV file) and carrier suggestions."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import AuditEvent
from delivery.dispatch.zone import dispatch_zone
from delivery.enums import DeliveryEventKind, DeliveryStatus, ShipmentStatus
from delivery.models import Delivery, DeliveryEvent, Shipment, ShipmentEvent, Zone
from delivery.tests.factories import CourierFactory, carrier, courier_client, staff_client
from sales.enums import Fulfilment, OrderStatus

pytestmark = pytest.mark.django_db
STAFF = "/api/v1/staff/delivery/"


def plan_state() -> tuple:
    return (tuple(Delivery.objects.order_by("pk").values_list("courier_id", "sequence",
                                                              "status")),
            tuple(Zone.objects.values_list("plan_version", flat=True)),
            DeliveryEvent.objects.count())


@pytest.fixture
def two_routes(zone, shop):
    first = CourierFactory(zones=[zone])
    for _ in range(4):
        shop.order(district="浦东新区")
    dispatch_zone(zone_id=zone.pk, seconds=0.2)
    second = CourierFactory(zones=[zone])
    return first, second


def client_for(who: str, courier=None) -> APIClient:
    if who == "anonymous":
        return APIClient()
    if who == "courier":
        return courier_client(courier)
    return staff_client(who)


# --- moving a stop by hand -------------------------------------------------------------------


@pytest.mark.parametrize("who", ["anonymous", "finance", "management", "supervision",
                                 "customer_service", "courier"])
def test_move_refused_changes_nothing(who, two_routes):
    first, second = two_routes
    stop = Delivery.objects.filter(courier=first).first()
    before = plan_state()
    response = client_for(who, first).post(f"{STAFF}deliveries/{stop.pk}/move/",
                                           {"courier": second.pk, "position": 1}, format="json")
    assert response.status_code in (401, 403)
    assert plan_state() == before


def test_move_to_another_courier(two_routes):
    first, second = two_routes
    stop = Delivery.objects.filter(courier=first).order_by("sequence")[1]
    response = staff_client("delivery").post(f"{STAFF}deliveries/{stop.pk}/move/",
                                             {"courier": second.pk, "position": 1,
                                              "reason": "顺路"}, format="json")
    assert response.status_code == 200, response.content
    stop.refresh_from_db()
    assert (stop.courier_id, stop.sequence, stop.vehicle_id) == (second.pk, 1,
                                                                 second.vehicle_id)
    assert stop.eta is not None
    assert list(Delivery.objects.filter(courier=first).order_by("sequence")
                .values_list("sequence", flat=True)) == [1, 2, 3]
    assert Zone.objects.get().plan_version == 2
    assert DeliveryEvent.objects.filter(kind=DeliveryEventKind.REASSIGNED).count() == 1
    assert AuditEvent.objects.filter(action="delivery.move").count() == 1


def test_move_within_the_route_renumbers_and_recomputes_etas(two_routes):
    first, _second = two_routes
    stops = list(Delivery.objects.filter(courier=first).order_by("sequence"))
    last = stops[-1]
    response = staff_client("delivery").post(f"{STAFF}deliveries/{last.pk}/move/",
                                             {"courier": first.pk, "position": 1}, format="json")
    assert response.status_code == 200
    order = list(Delivery.objects.filter(courier=first).order_by("sequence")
                 .values_list("pk", flat=True))
    assert order == [last.pk] + [s.pk for s in stops[:-1]]
    etas = list(Delivery.objects.filter(courier=first).order_by("sequence")
                .values_list("eta", flat=True))
    assert etas == sorted(etas)
    assert DeliveryEvent.objects.filter(kind=DeliveryEventKind.RESEQUENCED).count() == 1


def test_move_that_overloads_the_vehicle_is_refused(two_routes):
    first, second = two_routes
    second.vehicle.capacity_weight_kg = 0 + 1  # 1 kg; each stop weighs 1 kg
    second.vehicle.save()
    stops = Delivery.objects.filter(courier=first).order_by("sequence")
    client = staff_client("delivery")
    assert client.post(f"{STAFF}deliveries/{stops[0].pk}/move/",
                       {"courier": second.pk, "position": 1}, format="json").status_code == 200
    before = plan_state()
    response = client.post(f"{STAFF}deliveries/{stops[1].pk}/move/",
                           {"courier": second.pk, "position": 1}, format="json")
    assert response.status_code == 422 and response.json()["code"] == "capacity_exceeded"
    assert plan_state() == before


def test_move_to_an_undispatchable_courier_is_refused(two_routes, zone):
    first, _second = two_routes
    untrained = CourierFactory(zones=[zone], trained=False)
    stop = Delivery.objects.filter(courier=first).first()
    before = plan_state()
    response = staff_client("delivery").post(f"{STAFF}deliveries/{stop.pk}/move/",
                                             {"courier": untrained.pk, "position": 1},
                                             format="json")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "courier_not_dispatchable" and "not_trained" in body["fields"]["courier"]
    assert plan_state() == before


def test_picked_up_goods_cannot_change_courier(two_routes):
    from delivery.services import delivery_pickup

    first, second = two_routes
    stop = Delivery.objects.filter(courier=first).first()
    delivery_pickup(delivery=stop, courier=first, actor=first.user,
                    lines=[(line.sku_code, line.quantity) for line in stop.order.lines.all()])
    before = plan_state()
    response = staff_client("delivery").post(f"{STAFF}deliveries/{stop.pk}/move/",
                                             {"courier": second.pk, "position": 1},
                                             format="json")
    assert response.status_code == 409
    assert plan_state() == before


@pytest.mark.parametrize("body", [{}, {"courier": 999999, "position": 1},
                                  {"courier": "x", "position": 1}, {"courier": 1, "position": 0},
                                  {"courier": 1, "position": 99}])
def test_move_bad_input_is_400(body, two_routes):
    first, _ = two_routes
    stop = Delivery.objects.filter(courier=first).first()
    if body.get("courier") == 1:
        body = {**body, "courier": first.pk}
    before = plan_state()
    response = staff_client("delivery").post(f"{STAFF}deliveries/{stop.pk}/move/", body,
                                             format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"code", "message", "fields"}
    assert plan_state() == before


def test_move_unknown_delivery_is_404(two_routes):
    assert staff_client("delivery").post(f"{STAFF}deliveries/999999/move/",
                                         {"courier": 1, "position": 1},
                                         format="json").status_code == 404


# --- shipments ------------------------------------------------------------------------------


@pytest.fixture
def express(shop):
    carrier("sf", province="浙江省", first_kg="12.00", extra_kg="2.00")
    return shop.order(district="西湖区", city="杭州市", province="浙江省", quantity=3,
                      fulfilment=Fulfilment.EXPRESS, window_hours=None)


def shipment_state():
    return (Shipment.objects.count(), ShipmentEvent.objects.count(),
            tuple(Shipment.objects.values_list("status", "last_event_at")))


@pytest.mark.parametrize("who", ["anonymous", "finance", "management", "customer_service"])
def test_shipment_writes_refused_change_nothing(who, express):
    client = client_for(who)
    before = (shipment_state(), express.status)
    assert client.post(f"{STAFF}shipments/", {"order": express.number,
                                              "waybill_no": "SF0001"},
                       format="json").status_code == 403
    assert client.post(f"{STAFF}shipments/events/", {
        "carrier": "sf", "waybill_no": "SF0001", "kind": "in_transit",
        "occurred_at": timezone.now().isoformat()}, format="json").status_code == 403
    assert client.post(f"{STAFF}shipments/events/import/", {}).status_code == 403
    express.refresh_from_db()
    assert (shipment_state(), express.status) == before


def test_ship_an_express_order(express):
    response = staff_client("delivery").post(f"{STAFF}shipments/",
                                             {"order": express.number, "waybill_no": "SF0001"},
                                             format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["carrier"] == "sf" and body["price"] == "16.00"  # 3 kg: 12 + 2 × 2
    express.refresh_from_db()
    assert express.status == OrderStatus.DISPATCHED
    again = staff_client("delivery").post(f"{STAFF}shipments/", {"order": express.number,
                                                                 "waybill_no": "SF0001"},
                                          format="json")
    assert again.status_code == 409


def test_shipping_refuses_what_it_cannot_ship(express, shop):
    client = staff_client("delivery")
    same_city = shop.order(district="浦东新区")
    response = client.post(f"{STAFF}shipments/", {"order": same_city.number,
                                                  "waybill_no": "SF0002"}, format="json")
    assert response.status_code == 422 and response.json()["code"] == "wrong_fulfilment"
    far = shop.order(district="天河区", city="广州市", province="广东省",
                     fulfilment=Fulfilment.EXPRESS, window_hours=None)
    response = client.post(f"{STAFF}shipments/", {"order": far.number, "waybill_no": "SF0003"},
                           format="json")
    assert response.status_code == 422 and response.json()["code"] == "no_carrier"
    for bad in ({}, {"order": "NOPE", "waybill_no": "SF0004"},
                {"order": express.number, "waybill_no": "x"},
                {"order": express.number, "waybill_no": "SF0005", "carrier": "zz"}):
        assert client.post(f"{STAFF}shipments/", bad, format="json").status_code == 400
    assert Shipment.objects.count() == 0


@pytest.fixture
def shipment(express):
    staff_client("delivery").post(f"{STAFF}shipments/", {"order": express.number,
                                                         "waybill_no": "SF0001"}, format="json")
    return Shipment.objects.get()


def test_tracking_events_in_by_api(shipment):
    client = staff_client("delivery")
    at = timezone.now().replace(microsecond=0)
    body = {"carrier": "sf", "waybill_no": "SF0001", "kind": "in_transit",
            "occurred_at": at.isoformat(), "location": "杭州转运中心"}
    response = client.post(f"{STAFF}shipments/events/", body, format="json")
    assert response.status_code == 201 and response.json()["shipment_status"] == "in_transit"
    assert client.post(f"{STAFF}shipments/events/", body, format="json").status_code == 200
    assert ShipmentEvent.objects.count() == 1
    delivered = {**body, "kind": "delivered", "occurred_at": (at + timedelta(hours=20))
                 .isoformat()}
    client.post(f"{STAFF}shipments/events/", delivered, format="json")
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.DELIVERED
    assert shipment.order.status == OrderStatus.DELIVERED
    for bad in ({**body, "kind": "teleported"}, {**body, "waybill_no": "SF9999"},
                {**body, "occurred_at": "yesterday"}, {**body, "carrier": "ems"}):
        assert client.post(f"{STAFF}shipments/events/", bad, format="json").status_code == 400
    assert ShipmentEvent.objects.count() == 2


def csv_file(text: str, name: str = "tracking.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def test_tracking_csv_import(shipment):
    client = staff_client("delivery")
    text = ("carrier,waybill_no,kind,occurred_at,location,description\n"
            "sf,SF0001,accepted,2026-01-05 09:00,杭州,已揽收\n"
            "sf,SF0001,out_for_delivery,2026-01-06T08:00:00+08:00,西湖区,派送中\n")
    shipment.shipped_at = timezone.make_aware(timezone.datetime(2026, 1, 5, 8))
    shipment.save()
    response = client.post(f"{STAFF}shipments/events/import/", {"file": csv_file(text)},
                           format="multipart")
    assert response.status_code == 200, response.content
    assert response.json() == {"rows": 2, "created": 2, "duplicates": 0}
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.OUT_FOR_DELIVERY
    again = client.post(f"{STAFF}shipments/events/import/", {"file": csv_file(text)},
                        format="multipart")
    assert again.json() == {"rows": 2, "created": 0, "duplicates": 2}


@pytest.mark.parametrize("text,where", [
    ("carrier,waybill_no,kind,occurred_at\nsf,SF0001,accepted,2026-01-05 09:00\n"
     "sf,SF0001,flying,2026-01-05 10:00\n", "rows.3.kind"),
    ("carrier,waybill_no,kind,occurred_at\nsf,SF0001,accepted,2026-01-05 09:00\n"
     "sf,NOPE0001,accepted,2026-01-05 10:00\n", "rows.3.waybill_no"),
    ("carrier,waybill_no,kind,occurred_at\nsf,SF0001,accepted,not a time\n",
     "rows.2.occurred_at"),
    ("carrier,waybill,kind\nsf,SF0001,accepted\n", "file"),
    ("carrier,waybill_no,kind,occurred_at\n", "file"),
])
def test_a_bad_tracking_file_changes_nothing(text, where, shipment):
    before = shipment_state()
    response = staff_client("delivery").post(f"{STAFF}shipments/events/import/",
                                             {"file": csv_file(text)}, format="multipart")
    assert response.status_code == 400
    assert response.json()["code"] in ("import_invalid", "invalid")
    assert where in response.json()["fields"]
    assert shipment_state() == before


def test_a_file_that_is_not_utf8_is_400(shipment):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("t.csv", "carrier,单号\n".encode("gbk") + b"\xff\xfe",
                                content_type="text/csv")
    response = staff_client("delivery").post(f"{STAFF}shipments/events/import/",
                                             {"file": upload}, format="multipart")
    assert response.status_code == 400
    assert ShipmentEvent.objects.count() == 0


# --- carrier suggestion -------------------------------------------------------------------------


def test_suggest_ranks_by_price_and_record(shop):
    cheap = carrier("cheap", province="浙江省", first_kg="8.00", extra_kg="1.00")
    carrier("solid", province="浙江省", first_kg="10.00", extra_kg="1.00")
    carrier("far", province="广东省", first_kg="5.00", extra_kg="1.00")
    url = f"{STAFF}carriers/suggest/?province=浙江省&city=杭州市&weight_grams=1500"
    client = staff_client("delivery")
    assert [o["code"] for o in client.get(url).json()] == ["cheap", "solid"]
    # The cheap carrier loses a quarter of its parcels: its record outweighs the price.
    order = shop.order(district="西湖区", city="杭州市", province="浙江省",
                       fulfilment=Fulfilment.EXPRESS, window_hours=None)
    now = timezone.now()
    for i in range(4):
        Shipment.objects.create(order=order, carrier=cheap, waybill_no=f"C{i:04d}",
                                weight_grams=1000, price=Decimal("8.00"), shipped_at=now,
                                promised_by=now, last_event_at=now,
                                status=ShipmentStatus.LOST if i == 0 else ShipmentStatus.DELIVERED)
    ranked = client.get(url).json()
    assert [o["code"] for o in ranked] == ["solid", "cheap"]
    assert ranked[1]["loss_rate"] == "0.2500" and ranked[1]["price"] == "9.00"


def test_suggest_permissions_and_bad_input(shop):
    carrier("sf")
    url = f"{STAFF}carriers/suggest/?province=浙江省&city=杭州市&weight_grams=1000"
    assert APIClient().get(url).status_code == 403
    assert staff_client("marketing").get(url).status_code == 403
    assert staff_client("finance").get(url).status_code == 200  # finance reads delivery
    User.objects.create_user("plain", is_staff=False)
    for bad in ("?province=浙江省", "?province=浙江省&city=杭州市&weight_grams=-1",
                "?province=浙江省&city=杭州市&weight_grams=abc"):
        response = staff_client("delivery").get(f"{STAFF}carriers/suggest/{bad}")
        assert response.status_code == 400


def test_no_delivery_status_is_changed_by_staff_reads(two_routes):
    before = plan_state()
    staff_client("management").get(f"{STAFF}carriers/suggest/?province=a&city=b&weight_grams=1")
    assert plan_state() == before
    assert DeliveryStatus.ASSIGNED in {s for _c, _n, s in before[0]}
