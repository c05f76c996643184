from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS


def _no_surrogates(value: str) -> None:
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        raise serializers.ValidationError(_("Text contains invalid characters."))


class Text(serializers.CharField):
    """CharField that also refuses lone surrogates (which no database stores)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.append(_no_surrogates)


class MoneyString(serializers.DecimalField):
    """Money in the API is a decimal string ("12.50"): at most 2 decimals, ≥ 0."""

    default_error_messages = {
        "not_string": _('Send money as a decimal string, e.g. "12.50".'),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", MONEY_MAX_DIGITS)
        kwargs.setdefault("decimal_places", MONEY_DECIMAL_PLACES)
        kwargs.setdefault("min_value", Decimal("0"))
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_string")
        return super().to_internal_value(data)
