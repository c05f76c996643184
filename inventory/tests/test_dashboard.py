"""The inventory dashboard: low-stock list, stock value by location,
turnover chart, open alerts; its permissions; and the page in a real browser."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from inventory.replenishment import inventory_alerts_run, stock_policy_set
from inventory.tests.factories import client_for, staff, stocked_sku

pytestmark = pytest.mark.django_db


def stocked_dashboard(warehouse, store):
    low = stocked_sku(location=store, quantity=2, code="LOW-1", unit_cost="30.00")
    stocked_sku(location=warehouse, quantity=10, code="WH-1", unit_cost="12.50")
    stock_policy_set(sku=low, location=store, safety_stock=2, reorder_point=6)
    inventory_alerts_run()


def test_dashboard_content_and_permissions(warehouse, store, store_client, ecommerce_client,
                                           finance_client, client):
    stocked_dashboard(warehouse, store)
    response = store_client.get("/inventory/")
    assert response.status_code == 200
    html = response.content.decode()
    for section in ("low-stock", "stock-value", "turnover-chart", "open-alerts"):
        assert f'id="{section}"' in html
    assert "LOW-1" in html and "¥125.00" in html and "¥60.00" in html
    chart = json.loads(response.context["turnover_chart"])
    assert sorted(chart["labels"]) == sorted([warehouse.name, store.name])
    assert response.context["alert_count"] == 1
    # The store-sales department dashboard is this page.
    assert store_client.get("/dashboards/store_sales/").status_code == 200
    assert ecommerce_client.get("/inventory/").status_code == 200  # reads inventory
    assert finance_client.get("/inventory/").status_code == 403
    assert client.get("/inventory/").status_code == 302
    boss = client_for(staff("management", "boss"))
    assert boss.get("/dashboards/store_sales/").status_code == 200


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_dashboard_in_a_real_browser(live_server, browser_page):
    from inventory.tests.factories import LocationFactory, StoreFactory

    warehouse = LocationFactory(code="WH1", name="上海总仓", is_main_warehouse=True)
    store = StoreFactory(location__code="ST1", location__name="南京西路店").location
    stocked_dashboard(warehouse, store)
    user = get_user_model().objects.create_user("shop", password="right-password-1",
                                                is_staff=True)
    user.groups.add(Group.objects.get(name="store_sales"))
    page = browser_page
    page.goto(f"{live_server.url}/admin/login/?next=/inventory/")
    page.fill("input[name=username]", "shop")
    page.fill("input[name=password]", "right-password-1")
    page.click("button[type=submit]")
    page.wait_for_selector("#inventory-dashboard")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert "LOW-1" in page.inner_text("#low-stock")
    assert "LOW-1" in page.inner_text("#open-alerts")
    assert "上海总仓" in page.inner_text("#stock-value")
    # Chart.js drew the turnover chart into its canvas.
    page.wait_for_function(
        "() => { const c = document.querySelector('#turnover-chart canvas');"
        " return c && window.Chart && Chart.getChart(c) !== undefined; }", timeout=10000)
    assert page.locator("[data-kpi=alerts]").inner_text().strip() == "1"
    # The alerts link leads to the alert list in the admin.
    page.click("#inventory-dashboard a[href='/admin/inventory/stockalert/']")
    page.wait_for_selector("#result_list")
    assert "LOW-1" in page.inner_text("#result_list")
