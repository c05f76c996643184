"""`OrderOut` for the order intake's reply, in plain Python.

`OrderOut` stays the contract (and the schema, and the other endpoints'
serializer); rendering it through DRF field objects cost about 0.4 ms per
order. `order_out` builds the same dict (same keys in the same order, same
text for money and times); `test_order_output.py` checks they agree."""

from decimal import Decimal

from django.utils import timezone

from core.money import FEN
from sales.enums import OrderStatus


def _money(value) -> str | None:
    return None if value is None else f"{Decimal(value).quantize(FEN):f}"


def _time(value) -> str | None:
    """DRF's DateTimeField with DATETIME_FORMAT "iso-8601": the current time
    zone, ISO 8601, UTC written as Z."""
    if value is None:
        return None
    text = value.astimezone(timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def order_out(order) -> dict:
    lines = getattr(order, "lines_cache", None)
    if lines is None:
        lines = order.lines.all()
    return {
        "number": order.number,
        "external_id": order.external_id,
        "channel": order.channel.code,
        "status": str(order.status),
        "exception_reason": (order.exception_reason if order.status == OrderStatus.EXCEPTION
                             else None),
        "priority": str(order.priority),
        "lines": [{"sku": line.sku_code, "name": line.name, "quantity": line.quantity,
                   "unit_price": _money(line.unit_price), "discount": _money(line.discount),
                   "line_total": _money(line.line_total)} for line in lines],
        "subtotal": _money(order.subtotal),
        "discount_total": _money(order.discount_total),
        "total": _money(order.total),
        "paid_amount": _money(order.paid_amount),
        "fulfilment": str(order.fulfilment),
        "delivery_window": (None if order.window_start is None else
                            {"start": _time(order.window_start),
                             "end": _time(order.window_end)}),
        "created_at": _time(order.created_at),
        "updated_at": _time(order.updated_at),
    }
