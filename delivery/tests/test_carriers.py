"""Express shipments through the services: tracking events, stalls, records."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from core.models import JobRun
from customer_service.models import Ticket
from delivery.carriers import (
    carrier_records,
    shipment_create,
    shipment_event_record,
    shipments_flag_stalled,
)
from delivery.enums import EventSource, NotificationKind, ShipmentStatus
from delivery.models import CustomerNotification, Shipment
from delivery.policy import CarrierCandidate, CarrierRecord, carrier_price, carrier_rank
from delivery.tests.factories import carrier
from sales.enums import Fulfilment, OrderStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def shipment(shop):
    carrier("sf")
    order = shop.order(district="西湖区", city="杭州市", province="浙江省",
                       fulfilment=Fulfilment.EXPRESS, window_hours=None)
    return shipment_create(order=order, waybill_no="SF100", actor=None)


def age(shipment, hours):
    Shipment.objects.filter(pk=shipment.pk).update(
        last_event_at=timezone.now() - timedelta(hours=hours))


def test_stalled_shipment_is_flagged_once_per_stall(shipment):
    age(shipment, 49)
    assert shipments_flag_stalled(hours=48) == {"flagged": 1}
    assert shipments_flag_stalled(hours=48) == {"flagged": 0}
    shipment.refresh_from_db()
    assert shipment.stalled_at is not None
    ticket = Ticket.objects.get()
    assert ticket.kind == Ticket.Kind.SHIPMENT_STALLED and ticket.order == shipment.order
    note = CustomerNotification.objects.get(kind=NotificationKind.SHIPMENT_DELAYED)
    assert "SF100" in note.message and note.phone == shipment.order.customer.phone
    # A new event ends the stall; a later stall is a new one.
    shipment_event_record(shipment=shipment, kind="in_transit",
                          occurred_at=timezone.now() - timedelta(hours=1), source=EventSource.API)
    shipment.refresh_from_db()
    assert shipment.stalled_at is None
    assert shipments_flag_stalled(hours=48) == {"flagged": 0}
    age(shipment, 60)
    assert shipments_flag_stalled(hours=48) == {"flagged": 1}
    assert Ticket.objects.count() == 2
    assert CustomerNotification.objects.filter(kind=NotificationKind.SHIPMENT_DELAYED).count() == 2


def test_delivered_shipments_do_not_stall(shipment):
    shipment_event_record(shipment=shipment, kind="delivered",
                          occurred_at=timezone.now() - timedelta(hours=100),
                          source=EventSource.API)
    age(shipment, 100)
    assert shipments_flag_stalled(hours=48) == {"flagged": 0}


def test_the_stalled_shipments_job_is_recorded(shipment):
    age(shipment, 72)
    call_command("run_job", "stalled_shipments", stdout=StringIO())
    run = JobRun.objects.get(name="stalled_shipments")
    assert run.status == JobRun.Status.SUCCEEDED and run.counts == {"flagged": 1}


def test_old_news_does_not_move_the_status_back(shipment):
    now = timezone.now()
    shipment_event_record(shipment=shipment, kind="out_for_delivery", occurred_at=now,
                          source=EventSource.API)
    shipment_event_record(shipment=shipment, kind="in_transit",
                          occurred_at=now - timedelta(hours=5), source=EventSource.CSV)
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.OUT_FOR_DELIVERY
    assert shipment.last_event_at == now
    shipment_event_record(shipment=shipment, kind="damaged", occurred_at=now,
                          source=EventSource.API)
    shipment_event_record(shipment=shipment, kind="delivered",
                          occurred_at=now + timedelta(hours=1), source=EventSource.API)
    shipment.refresh_from_db()
    assert shipment.damaged and shipment.status == ShipmentStatus.DELIVERED
    assert shipment.order.status == OrderStatus.DELIVERED
    # After delivered nothing moves it.
    shipment_event_record(shipment=shipment, kind="in_transit",
                          occurred_at=now + timedelta(hours=2), source=EventSource.API)
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.DELIVERED


def test_carrier_record_rates(shipment):
    shipment_event_record(shipment=shipment, kind="damaged", occurred_at=timezone.now(),
                          source=EventSource.API)
    record = carrier_records()[shipment.carrier_id]
    assert record.shipments == 1 and record.damage_rate == Decimal("1.0000")
    assert record.loss_rate == Decimal("0")


def test_price_and_rank_policies():
    assert carrier_price(first_kg=Decimal("12"), extra_kg=Decimal("2"), weight_grams=1000) \
        == Decimal("12.00")
    assert carrier_price(first_kg=Decimal("12"), extra_kg=Decimal("2"), weight_grams=1001) \
        == Decimal("14.00")
    clean = CarrierRecord(100, 0, 0, 0, 0)
    lossy = CarrierRecord(100, 0, 5, 0, 0)
    options = carrier_rank([
        CarrierCandidate(1, "a", "A", Decimal("10.00"), 48, lossy),
        CarrierCandidate(2, "b", "B", Decimal("10.50"), 48, clean),
        CarrierCandidate(3, "c", "C", Decimal("30.00"), 24, clean),
    ])
    assert [o.code for o in options] == ["b", "a", "c"]
