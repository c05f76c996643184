"""`manage.py seed_demo`: the demo catalogue, stock, channels, stores and a
year of orders; deterministic, idempotent, and the ledger equals the book."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Max, Min, Sum
from django.utils import timezone

from core.models import AuditEvent
from inventory.enums import LocationKind, MovementKind
from inventory.models import Location, Product, Sku, StockLevel, StockMovement
from inventory.selectors import stock_ledger_drift
from sales import seed as sales_seed
from sales.enums import OrderStatus
from sales.models import Channel, Customer, Order, OrderAllocation, OrderEvent, OrderLine, Store

pytestmark = pytest.mark.django_db

CHANNELS = {"taobao": "淘宝", "jd": "京东", "pinduoduo": "拼多多", "douyin": "抖音",
            "own_shop": "官方商城", "store_pos": "门店收银"}


@pytest.fixture
def small_demo(settings):
    """A tenth of the demo's orders keeps the suite quick while taking both
    loading paths (bulk history and the services)."""
    settings.SEED_DEMO_ORDERS = 300


def counts() -> dict:
    levels = StockLevel.objects.aggregate(on_hand=Sum("on_hand"), reserved=Sum("reserved"))
    return {
        "products": Product.objects.count(), "skus": Sku.objects.count(),
        "locations": Location.objects.count(), "stores": Store.objects.count(),
        "channels": Channel.objects.count(), "customers": Customer.objects.count(),
        "orders": Order.objects.count(), "lines": OrderLine.objects.count(),
        "events": OrderEvent.objects.count(), "movements": StockMovement.objects.count(),
        "audit": AuditEvent.objects.count(), "stock": (levels["on_hand"], levels["reserved"]),
        "statuses": dict(Order.objects.values_list("status").annotate(n=Count("pk"))),
        "last_change": Order.objects.aggregate(last=Max("updated_at"))["last"],
    }


def seed_demo() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_twice_changes_nothing_and_the_ledger_equals_the_book(small_demo):
    seed_demo()
    assert stock_ledger_drift() == []
    first = counts()
    seed_demo()
    assert counts() == first
    assert stock_ledger_drift() == []
    call_command("check_stock_ledger", stdout=StringIO())


def test_demo_content_looks_real(small_demo):
    seed_demo()
    channels = dict(Channel.objects.values_list("code", "name"))
    assert channels == CHANNELS
    assert all(0 < rate < 0.1 for rate in Channel.objects.values_list("commission_rate",
                                                                      flat=True))
    assert Sku.objects.count() >= 200
    assert Sku.objects.filter(name__contains="/").count() >= 200  # colour/size variants
    stores = Store.objects.select_related("location")
    assert stores.count() >= 3
    for store in stores:
        assert store.location.kind == LocationKind.STORE
        assert store.location.city == "上海市" and store.address.startswith("上海市")
        assert store.location.lat and store.location.lng and store.opening_hours
    assert Location.objects.get(is_main_warehouse=True).kind == LocationKind.WAREHOUSE
    assert not Channel.objects.get(code="store_pos").locations.filter(
        kind=LocationKind.WAREHOUSE).exists()

    orders = Order.objects.all()
    assert orders.count() >= 300
    assert set(orders.values_list("channel__code", flat=True)) == set(CHANNELS)
    statuses = set(orders.values_list("status", flat=True))
    assert {OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.EXCEPTION} <= statuses
    assert statuses & {OrderStatus.CONFIRMED, OrderStatus.PICKING, OrderStatus.PACKED,
                       OrderStatus.DISPATCHED, OrderStatus.DELIVERED}
    span = orders.aggregate(first=Min("created_at"), last=Max("created_at"))
    assert span["last"] - span["first"] > timedelta(days=300)
    assert span["last"] <= timezone.now()
    reasons = set(orders.filter(status=OrderStatus.EXCEPTION)
                  .values_list("exception_reason", flat=True))
    assert len(reasons) >= 2  # the queue has more than one kind of problem

    # Every order looks like the services made it (older ones are bulk-written).
    now = timezone.now()
    # times: nothing in the future, nothing before its order
    assert not OrderEvent.objects.filter(created_at__gt=now).exists()
    assert not OrderEvent.objects.filter(created_at__lt=F("order__created_at")).exists()
    assert not StockMovement.objects.filter(order__isnull=False,
                                            created_at__lt=F("order__created_at")).exists()
    for order in Order.objects.filter(status=OrderStatus.COMPLETED)[:50]:
        timeline = list(order.events.values_list("to_status", flat=True))
        assert timeline == [OrderStatus.PENDING_REVIEW, OrderStatus.CONFIRMED,
                            OrderStatus.PICKING, OrderStatus.PACKED, OrderStatus.DISPATCHED,
                            OrderStatus.DELIVERED, OrderStatus.COMPLETED], order.number
        ordered = order.lines.aggregate(n=Sum("quantity"))["n"]
        assert OrderAllocation.objects.filter(order=order).aggregate(
            n=Sum("quantity"))["n"] == ordered
        moved = dict(StockMovement.objects.filter(order=order).values_list("kind")
                     .annotate(n=Sum("on_hand_delta")))
        assert moved == {MovementKind.RESERVE: 0, MovementKind.CONSUME: -ordered}
        assert order.number.startswith(f"RT{timezone.localtime(order.created_at):%y%m%d}")
    for order in Order.objects.filter(status=OrderStatus.CANCELLED)[:30]:
        reserved = StockMovement.objects.filter(order=order).aggregate(
            n=Sum("reserved_delta"))["n"]
        assert reserved in (0, None)  # released again (or never reserved)
    # nothing reserved that no open order holds
    open_orders = [OrderStatus.CONFIRMED, OrderStatus.PICKING, OrderStatus.PACKED]
    held = OrderAllocation.objects.filter(order__status__in=open_orders).aggregate(
        n=Sum("quantity"))["n"] or 0
    assert StockLevel.objects.aggregate(n=Sum("reserved"))["n"] == held


def test_order_plans_are_deterministic():
    now = timezone.now()

    def content(plans):
        return [(p.channel, p.external_id, p.customer.phone, tuple(p.lines), p.fulfilment,
                 p.target, p.cancel_from) for p in plans]

    first = sales_seed.order_plans(now=now)
    assert content(first) == content(sales_seed.order_plans(now=now))
    assert len({(p.channel, p.external_id) for p in first}) == len(first)
    # the orders themselves do not depend on the day the demo is loaded
    later = sales_seed.order_plans(now=now + timedelta(days=3))
    assert ({(p.channel, p.external_id) for p in later}
            == {(p.channel, p.external_id) for p in first})


def test_demo_inventory_operations_give_the_dashboard_content(small_demo):
    from inventory.enums import AlertStatus, StocktakeStatus, TransferStatus
    from inventory.listings import products_with_listing_checks
    from inventory.models import (
        Category,
        ProductImage,
        StockAlert,
        StockPolicy,
        Stocktake,
        TransferOrder,
    )

    seed_demo()
    assert Category.objects.filter(parent__isnull=True).count() == 6
    assert Category.objects.filter(parent__isnull=False).count() >= 10
    listings = products_with_listing_checks()
    complete = listings.filter(listing_complete=True).count()
    assert 0 < complete < listings.count()  # some listings still need work
    assert ProductImage.objects.count() >= 6 * complete
    assert not Sku.objects.filter(unit_cost=0).exists()
    assert StockPolicy.objects.count() >= StockLevel.objects.count() - 10
    assert StockAlert.objects.filter(status=AlertStatus.OPEN).exists()
    assert set(TransferOrder.objects.values_list("status", flat=True)) == {
        TransferStatus.DRAFT, TransferStatus.SENT, TransferStatus.RECEIVED}
    assert set(Stocktake.objects.values_list("status", flat=True)) == {
        StocktakeStatus.POSTED, StocktakeStatus.COUNTING}
    assert StockLevel.objects.filter(quarantine__gt=0).exists()
    assert stock_ledger_drift() == []
    call_command("check_stock_ledger", stdout=StringIO())
