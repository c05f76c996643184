from decimal import ROUND_HALF_UP, Decimal

from django import template

register = template.Library()


@register.filter
def money(value) -> str:
    """12345.6 → "12,345.60" (half-up to the fen)."""
    if value in (None, ""):
        return ""
    amount = Decimal(value).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return f"{amount:,.2f}"
