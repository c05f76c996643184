from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from core.models import JobRun
from inventory.models import StockLevel
from sales.models import Order
from sales.services import LineInput, OrderInput, order_create
from sales.tests.factories import ChannelFactory, LocationFactory, SkuFactory, stocked_sku


def _order(channel, sku, external_id, quantity):
    return order_create(channel=channel, data=OrderInput(
        external_id=external_id, customer_name="李四", customer_phone="13900000001",
        customer_email="", lines=[LineInput(sku=sku, quantity=quantity,
                                            unit_price=Decimal("10.00"))],
        province="上海市", city="上海市", district="徐汇区", line1=f"漕溪北路 {external_id}",
        fulfilment="express", paid_amount=Decimal("10.00") * quantity))[0]


@pytest.mark.django_db
def test_review_deadline_job_flags_overdue_exceptions_once():
    warehouse = LocationFactory(is_main_warehouse=True)
    channel = ChannelFactory(code="jd")
    sku = stocked_sku(location=warehouse, quantity=1)
    stuck = _order(channel, sku, "A", 5)          # insufficient stock → exception
    fine = _order(channel, sku, "B", 1)           # confirmed
    assert (stuck.status, fine.status) == ("exception", "confirmed")
    Order.objects.filter(pk=stuck.pk).update(review_deadline=timezone.now() - timedelta(minutes=1))

    call_command("run_job", "order_review_deadline", stdout=StringIO())
    call_command("run_job", "order_review_deadline", stdout=StringIO())

    stuck.refresh_from_db()
    assert stuck.review_overdue_at is not None
    assert stuck.events.filter(kind="review_overdue").count() == 1
    runs = JobRun.objects.filter(name="order_review_deadline").order_by("pk")
    assert [run.counts["flagged"] for run in runs] == [1, 0]


@pytest.mark.django_db
def test_check_stock_ledger_finds_injected_drift():
    warehouse = LocationFactory(is_main_warehouse=True)
    sku = stocked_sku(location=warehouse, quantity=7)
    SkuFactory()
    call_command("check_stock_ledger", stdout=StringIO())
    StockLevel.objects.filter(sku=sku).update(on_hand=8)  # someone edited the book directly
    out = StringIO()
    with pytest.raises(CommandError, match="1"):
        call_command("check_stock_ledger", stdout=out)
    assert "(8, 0)" in out.getvalue() and "(7, 0)" in out.getvalue()
