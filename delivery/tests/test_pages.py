"""The delivery pages (dashboard, dispatcher's map, scorecard, capacity)
through the test client, KPIs and capacity numbers, the admin screens, and
the dashboard and a hand move in a real browser."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from delivery.dispatch.zone import dispatch_zone
from delivery.enums import DeliveryStatus, IssueKind
from delivery.models import Delivery, DeliveryForecast, DeliveryIssue, Zone
from delivery.reports import capacity_plan, courier_kpis
from delivery.tests.factories import CourierFactory, Shop, ZoneFactory, staff

pytestmark = pytest.mark.django_db
PAGES = ["/delivery/", "/delivery/dispatch/", "/delivery/scorecard/", "/delivery/capacity/",
         "/dashboards/delivery/"]


@pytest.fixture
def planned(zone, shop):
    couriers = [CourierFactory(zones=[zone]) for _ in range(2)]
    for _ in range(5):
        shop.order(district="浦东新区")
    dispatch_zone(zone_id=zone.pk, seconds=0.2)
    return couriers


def login(department: str) -> Client:
    client = Client()
    client.force_login(staff(department))
    return client


@pytest.mark.parametrize("url", PAGES)
def test_pages_open_for_delivery_and_management_only(url, planned):
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
    assert login("finance").get(url).status_code == 403
    assert login("marketing").get(url).status_code == 403
    courier = planned[0].user  # a courier is not staff
    client = Client()
    client.force_login(courier)
    assert client.get(url).status_code == 302
    for department in ("delivery", "management", "supervision"):
        response = login(department).get(url, follow=True)
        assert response.status_code == 200


def test_dashboard_shows_today(planned):
    html = login("delivery").get("/delivery/").content.decode()
    assert 'data-kpi="orders-today">5<' in html
    assert 'data-status="confirmed"' in html
    assert planned[0].name in html or planned[1].name in html


def test_dispatch_map_shows_routes_in_order(planned, zone):
    response = login("delivery").get(f"/delivery/dispatch/{zone.pk}/")
    html = response.content.decode()
    assert html.count('class="stop-dot"') == 5
    assert html.count("<polyline") == len({d.courier_id for d in Delivery.objects.all()})
    assert html.count('class="flex gap-1 move-form"') == 5
    assert "map-tiles" not in html and "http://" not in html.split("<svg")[1].split("</svg>")[0]
    # Management reads the map but has no move forms.
    assert "move-form" not in login("management").get(
        f"/delivery/dispatch/{zone.pk}/").content.decode()


def test_move_form_moves_a_stop_and_refusals_change_nothing(planned, zone):
    first, second = planned
    stop = Delivery.objects.filter(courier=first).first() or \
        Delivery.objects.filter(courier=second).first()
    target = second if stop.courier_id == first.pk else first
    url = f"/delivery/dispatch/move/{stop.pk}/"
    before = list(Delivery.objects.order_by("pk").values_list("courier_id", "sequence"))
    assert login("management").post(url, {"courier": target.pk, "position": 1}).status_code \
        == 403
    assert login("finance").post(url, {"courier": target.pk, "position": 1}).status_code == 403
    client = login("delivery")
    response = client.post(url, {"courier": target.pk, "position": 999}, follow=True)
    assert "The move was not made" in response.content.decode() or "未" in \
        response.content.decode()
    assert list(Delivery.objects.order_by("pk").values_list("courier_id", "sequence")) == before
    response = client.post(url, {"courier": target.pk, "position": 1})
    assert response.status_code == 302
    stop.refresh_from_db()
    assert (stop.courier_id, stop.sequence) == (target.pk, 1)
    assert client.get(url).status_code == 405


def test_scorecard_and_capacity_refuse_bad_filters(planned):
    client = login("delivery")
    assert client.get("/delivery/scorecard/?month=2026-13").status_code == 400
    assert client.get("/delivery/scorecard/?zone=abc").status_code == 400
    assert client.get("/delivery/capacity/?days=0").status_code == 400
    assert client.get("/delivery/capacity/?start=someday").status_code == 400
    assert client.get("/delivery/scorecard/?month=2026-01").status_code == 200


def _close(delivery, *, status, minutes=30, late=False, rating=None):
    now = timezone.now()
    delivery.status = status
    delivery.picked_up_at = now - timedelta(minutes=minutes)
    delivery.closed_at = now
    if status == DeliveryStatus.DELIVERED:
        delivery.delivered_at = now
    delivery.promised_end = now + (timedelta(minutes=-5) if late else timedelta(hours=1))
    delivery.rating = rating
    delivery.save()


def test_courier_kpis_for_the_month(zone, shop):
    courier = CourierFactory(zones=[zone])
    for _ in range(5):
        shop.order(district="浦东新区")
    dispatch_zone(zone_id=zone.pk, seconds=0.2)
    d = list(Delivery.objects.filter(courier=courier).order_by("pk"))
    _close(d[0], status=DeliveryStatus.DELIVERED, minutes=20, rating=5)
    _close(d[1], status=DeliveryStatus.DELIVERED, minutes=40, rating=4)
    _close(d[2], status=DeliveryStatus.DELIVERED, minutes=60, late=True)
    _close(d[3], status=DeliveryStatus.FAILED)
    DeliveryIssue.objects.create(delivery=d[1], kind=IssueKind.COMPLAINT)
    DeliveryIssue.objects.create(delivery=d[2], kind=IssueKind.DAMAGE)
    [row] = courier_kpis(month=timezone.localdate())
    assert (row.closed, row.delivered, row.on_time, row.failed) == (4, 3, 2, 1)
    assert row.on_time_rate == Decimal("66.7")
    assert row.avg_minutes == 40
    assert row.avg_rating == Decimal("4.50") and row.ratings == 2
    assert (row.damage, row.complaints) == (1, 1)
    html = login("delivery").get("/delivery/scorecard/").content.decode()
    assert f'data-courier="{courier.employee_no}"' in html and "66.7%" in html
    last_month = (timezone.localdate().replace(day=1) - timedelta(days=1))
    assert courier_kpis(month=last_month) == []


def test_capacity_shortfall_from_a_forecast(zone):
    today = timezone.localdate()
    for _ in range(3):
        CourierFactory(zones=[zone], daily_capacity=40)
    expiring = CourierFactory(zones=[zone], daily_capacity=40,
                              vehicle__insurance_expires_on=today + timedelta(days=2))
    DeliveryForecast.objects.create(day=today + timedelta(days=3), expected_orders=200,
                                    source="campaign", note="双11")
    rows = {row.day: row for row in capacity_plan(start=today, days=5)}
    assert rows[today].capacity == 160 and rows[today].shortfall == 0
    big = rows[today + timedelta(days=3)]
    assert big.source == "forecast" and big.couriers == 3  # insurance lapsed
    assert (big.capacity, big.shortfall, big.couriers_needed) == (120, 80, 2)
    html = login("delivery").get(f"/delivery/capacity/?start={today:%Y-%m-%d}&days=5") \
        .content.decode()
    assert 'data-shortfall="80"' in html
    assert expiring.vehicle.plate  # the courier is still on the books


ADMIN_LISTS = ["zone", "priorityclass", "courier", "trainingcourse", "trainingrecord", "vehicle",
               "equipment", "fleetalert", "delivery", "dispatchrun", "customernotification",
               "deliveryforecast", "carrier", "shipment", "shipmentevent"]


def test_admin_screens_open_for_delivery_and_are_read_only_for_finance(planned):
    client = login("delivery")
    for name in ADMIN_LISTS:
        assert client.get(f"/admin/delivery/{name}/").status_code == 200, name
    delivery = Delivery.objects.first()
    html = client.get(f"/admin/delivery/delivery/{delivery.pk}/change/").content.decode()
    assert delivery.handover_code not in html.replace(delivery.order.number, "")
    assert client.get("/admin/delivery/shipment/import-tracking/").status_code == 200
    finance = login("finance")
    assert finance.get("/admin/delivery/courier/").status_code == 200  # reads delivery
    assert finance.get("/admin/delivery/shipment/import-tracking/").status_code == 403
    assert login("marketing").get("/admin/delivery/courier/").status_code == 403


def test_admin_actions_call_the_services(planned):
    from delivery.enums import CourierStatus

    client = login("delivery")
    courier = planned[0]
    response = client.post("/admin/delivery/courier/", {
        "action": "suspend_selected", "_selected_action": [courier.pk]})
    assert response.status_code == 302
    courier.refresh_from_db()
    assert courier.status == CourierStatus.SUSPENDED
    before = courier.status
    login("finance").post("/admin/delivery/courier/", {
        "action": "activate_selected", "_selected_action": [courier.pk]})
    courier.refresh_from_db()
    assert courier.status == before


def test_admin_hire_goes_through_the_service(zone):
    from delivery.tests.factories import onboarding_course

    onboarding_course()
    client = login("delivery")
    response = client.post("/admin/delivery/courier/add/", {
        "employee_no": "PS7777", "name": "王师傅", "phone": "13900007777",
        "hired_on": "2026-01-05", "employment_type": "full_time", "shift_start": "08:00",
        "shift_end": "20:00", "daily_capacity": "40", "zones": [zone.pk],
        "training_records-TOTAL_FORMS": "0", "training_records-INITIAL_FORMS": "0",
        "equipment-TOTAL_FORMS": "0", "equipment-INITIAL_FORMS": "0"})
    assert response.status_code == 302, response.content.decode()[:3000]
    from delivery.models import Courier

    hired = Courier.objects.get(employee_no="PS7777")
    assert hired.status == "onboarding" and list(hired.zones.all()) == [zone]
    assert hired.training_records.count() == 1


def test_admin_tracking_import_all_or_nothing(shop):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from delivery.carriers import shipment_create
    from delivery.models import ShipmentEvent
    from delivery.tests.factories import carrier
    from sales.enums import Fulfilment

    carrier("sf")
    order = shop.order(district="西湖区", city="杭州市", province="浙江省",
                       fulfilment=Fulfilment.EXPRESS, window_hours=None)
    shipment_create(order=order, waybill_no="SF200", actor=None)
    client = login("delivery")
    bad = ("carrier,waybill_no,kind,occurred_at\nsf,SF200,accepted,2026-01-05 09:00\n"
           "sf,SF200,warp,2026-01-05 10:00\n")
    response = client.post("/admin/delivery/shipment/import-tracking/", {
        "file": SimpleUploadedFile("t.csv", bad.encode())})
    assert response.status_code == 400 and "rows.3.kind" in response.content.decode()
    assert ShipmentEvent.objects.count() == 0
    good = bad.replace("warp", "in_transit")
    response = client.post("/admin/delivery/shipment/import-tracking/", {
        "file": SimpleUploadedFile("t.csv", good.encode())})
    assert response.status_code == 302
    assert ShipmentEvent.objects.count() == 2


# --- a real browser ----------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_browser_dashboard_and_a_hand_move(live_server, browser_page):
    zone = ZoneFactory(code="pd", name="浦东", districts=["浦东新区"])
    couriers = [CourierFactory(zones=[zone]) for _ in range(2)]
    shop = Shop()
    for _ in range(4):
        shop.order(district="浦东新区")
    dispatch_zone(zone_id=zone.pk, seconds=0.2)
    user = User.objects.create_user("dispatcher", password="right-password-1", is_staff=True)
    from django.contrib.auth.models import Group

    user.groups.add(Group.objects.get(name="delivery"))
    page = browser_page
    page.goto(f"{live_server.url}/admin/login/?next=/delivery/")
    page.fill("input[name=username]", "dispatcher")
    page.fill("input[name=password]", "right-password-1")
    page.click("button[type=submit]")
    page.wait_for_selector("#delivery-dashboard")
    assert page.inner_text("[data-kpi=orders-today]").strip() == "4"
    assert "今日" in page.content() or "配送" in page.inner_text("h1")
    assert page.locator("#courier-load tbody tr").count() >= 1

    page.goto(f"{live_server.url}/delivery/dispatch/{zone.pk}/")
    page.wait_for_selector("#route-map svg")
    assert page.locator(".stop-dot").count() == 4
    source = Delivery.objects.order_by("courier_id", "sequence").first()
    target = next(c for c in couriers if c.pk != source.courier_id)
    row = page.locator(f"tr[data-delivery='{source.pk}']")
    row.locator("select[name=courier]").select_option(str(target.pk))
    row.locator("input[name=position]").fill("1")
    row.locator("button[type=submit]").click()
    page.wait_for_selector(f".route[data-courier='{target.pk}'] tr[data-delivery='{source.pk}']")
    source.refresh_from_db()
    assert (source.courier_id, source.sequence) == (target.pk, 1)
    assert Zone.objects.get(pk=zone.pk).plan_version == 2
