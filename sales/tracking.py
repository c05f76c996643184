"""Delivery and shipment events for an order's tracking page (SPEC §9
`tracking/`; 003 04: customers follow their order).

Same-city deliveries contribute the courier's milestones (assigned, picked
up, arriving, delayed, delivered, failed); express shipments contribute the
carrier's tracking events. Internal events (re-planning moves, refused
hand-over codes, pickup counts) are not shown to partners, nor is the
hand-over code. Oldest first."""

from delivery.enums import DeliveryEventKind
from delivery.models import DeliveryEvent, ShipmentEvent
from sales.models import Order

PUBLIC_DELIVERY_EVENTS = (
    DeliveryEventKind.ASSIGNED, DeliveryEventKind.PICKED_UP, DeliveryEventKind.ARRIVING,
    DeliveryEventKind.DELAYED, DeliveryEventKind.DELIVERED, DeliveryEventKind.FAILED,
    DeliveryEventKind.REFUSED,
)


def _decimal(value) -> str | None:
    return None if value is None else str(value)


def tracking_events(*, order: Order) -> list[dict]:
    events = []
    for event in (DeliveryEvent.objects.filter(delivery__order=order,
                                               kind__in=PUBLIC_DELIVERY_EVENTS)
                  .select_related("delivery__courier").order_by("created_at", "pk")):
        events.append((event.created_at, {
            "at": event.created_at.isoformat(),
            "source": "courier",
            "kind": event.kind,
            "description": str(event.get_kind_display()),
            "courier": event.delivery.courier.name,
            "carrier": None,
            "waybill_no": None,
            "location": "",
            "lat": _decimal(event.lat),
            "lng": _decimal(event.lng),
        }))
    for event in (ShipmentEvent.objects.filter(shipment__order=order)
                  .select_related("shipment__carrier").order_by("occurred_at", "pk")):
        events.append((event.occurred_at, {
            "at": event.occurred_at.isoformat(),
            "source": "carrier",
            "kind": event.kind,
            "description": event.description or str(event.get_kind_display()),
            "courier": None,
            "carrier": event.shipment.carrier.code,
            "waybill_no": event.shipment.waybill_no,
            "location": event.location,
            "lat": None,
            "lng": None,
        }))
    events.sort(key=lambda pair: pair[0])
    return [entry for _at, entry in events]
