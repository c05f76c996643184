"""Automatic order review (002 四(一)1): plain inputs, a reason or None."""

from dataclasses import dataclass
from decimal import Decimal

from sales.enums import ExceptionReason, Fulfilment

FRAUD_ORDERS_PER_ADDRESS_PER_HOUR = 5
DUPLICATE_WINDOW_MINUTES = 10


@dataclass(frozen=True)
class ReviewInput:
    fulfilment: str
    total: Decimal
    paid_amount: Decimal
    same_city_served: bool
    orders_to_address_last_hour: int
    duplicate_found: bool


def review_order(facts: ReviewInput) -> str | None:
    """First failing check wins; stock is checked after these by reserving."""
    if facts.paid_amount != facts.total:
        return ExceptionReason.PAYMENT_MISMATCH
    if facts.fulfilment == Fulfilment.DELIVERY and not facts.same_city_served:
        return ExceptionReason.ADDRESS_OUT_OF_AREA
    if facts.duplicate_found:
        return ExceptionReason.POSSIBLE_DUPLICATE
    if facts.orders_to_address_last_hour >= FRAUD_ORDERS_PER_ADDRESS_PER_HOUR:
        return ExceptionReason.FRAUD_SUSPECTED
    return None
