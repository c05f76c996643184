"""Money is Decimal: one field definition (12 digits, 2 places) and one
rounding rule (half-up to the fen), used everywhere (STYLE rule 7)."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import models

MONEY_MAX_DIGITS = 12
MONEY_DECIMAL_PLACES = 2
FEN = Decimal("0.01")
ZERO = Decimal("0.00")


class MoneyField(models.DecimalField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", MONEY_MAX_DIGITS)
        kwargs.setdefault("decimal_places", MONEY_DECIMAL_PLACES)
        super().__init__(*args, **kwargs)


def money(value: Decimal | int | str) -> Decimal:
    """Round to the fen, half-up. Floats are refused: they are not money."""
    if isinstance(value, float):
        raise TypeError("money() refuses floats; pass Decimal, int or str")
    try:
        return Decimal(value).quantize(FEN, rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
