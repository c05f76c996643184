"""Delivery and shipment events for an order's tracking page.

The delivery app adds its events here as it grows (courier scans, carrier
tracking); for now an order's timeline is its status history."""

from sales.models import Order


def tracking_events(*, order: Order) -> list[dict]:
    return []
