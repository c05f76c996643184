"""The partner order body, validated fast when it is valid.

`OrderIn` (sales/api/serializers.py) is the contract: its fields, limits and
error messages, and the OpenAPI schema. Running it costs about a millisecond
of CPU per order (a serializer per nested object, four validators per text
field), a seventh of an intake. `order_in_fast` checks the common shape of
a *valid* body in plain Python and returns exactly what `OrderIn` would
return; for anything it does not vouch for (a wrong type, a value DRF would
coerce, a limit crossed, an unknown SKU) it returns None and the caller runs
`OrderIn`, which accepts or explains. It never refuses a body itself, so
every error message still comes from `OrderIn`; `test_order_input.py`
checks the two agree."""

import re
from decimal import Decimal

from rest_framework.exceptions import ValidationError

from core.api.reuse import declared_field, validated
from core.money import FEN, MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
from inventory.selectors import skus_for_order
from sales.api.serializers import (
    MAX_LINES,
    MAX_QUANTITY,
    MONEY_MAX,
    PHONE_PATTERN,
    OrderIn,
    WindowIn,
)
from sales.enums import Fulfilment, Priority

# Strict forms only: what DRF would also accept unchanged (no sign, exponent
# or spaces). Anything else is left to DRF.
_WHOLE = MONEY_MAX_DIGITS - MONEY_DECIMAL_PLACES
_MONEY = re.compile(rf"[0-9]{{1,{_WHOLE}}}(?:\.[0-9]{{1,{MONEY_DECIMAL_PLACES}}})?")
_DEGREES = re.compile(r"-?[0-9]{1,3}(?:\.[0-9]{1,6})?")
_PHONE = re.compile(PHONE_PATTERN)
_MICRO = Decimal("0.000001")
_FULFILMENT = frozenset(Fulfilment.values)
_PRIORITY = frozenset(Priority.values)


def _limits(*paths: str) -> dict[str, int]:
    """The max_length OrderIn declares at each path (one source for them)."""
    serializer, out = OrderIn(), {}
    for path in paths:
        field = serializer
        for name in path.split("."):
            field = field.child if name == "*" else field.fields[name]
        out[path] = field.max_length
    return out


_LIMITS = _limits("external_id", "customer.name", "customer.phone", "lines.*.sku",
                  "shipping_address.province", "shipping_address.city",
                  "shipping_address.district", "shipping_address.line1", "note")


class _Refer(Exception):  # noqa: N818 - not an error: "let OrderIn decide"
    pass


def _text(value, max_length: int, *, blank: bool = False) -> str:
    """DRF CharField (trimmed) + Text's checks, for a str only."""
    if type(value) is not str:
        raise _Refer
    value = value.strip()
    if (not value and not blank) or len(value) > max_length or "\x00" in value:
        raise _Refer
    if not value.isascii() and any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        raise _Refer
    return value


def _money(value) -> Decimal:
    if type(value) is not str or not _MONEY.fullmatch(value):
        raise _Refer
    return Decimal(value).quantize(FEN)


def _degrees(value, limit: int) -> Decimal | None:
    if value is None:
        return None
    if type(value) is not str or not _DEGREES.fullmatch(value):
        raise _Refer
    number = Decimal(value).quantize(_MICRO)
    if not -limit <= number <= limit:
        raise _Refer
    return number


def _mapping(value) -> dict:
    if type(value) is not dict:
        raise _Refer
    return value


def _email(customer: dict) -> str:
    value = customer.get("email", "")
    if type(value) is not str:
        raise _Refer
    if not value.strip():
        return ""
    # Django's e-mail rules are not worth copying: the one field, as DRF runs it.
    return declared_field(OrderIn, "customer", "email").run_validation(value)


def order_in_fast(data) -> dict | None:
    """OrderIn's validated data for `data`, or None: run OrderIn."""
    try:
        return _order(data)
    except (_Refer, ValidationError):  # DRF's, from the e-mail or window fields
        return None


def _order(data) -> dict:
    data = _mapping(data)
    customer, address = _mapping(data.get("customer")), _mapping(data.get("shipping_address"))
    lines = data.get("lines")
    if type(lines) is not list or not 1 <= len(lines) <= MAX_LINES:
        raise _Refer
    out_lines, total = [], Decimal(0)
    for line in lines:
        line = _mapping(line)
        quantity = line.get("quantity")
        if type(quantity) is not int or not 1 <= quantity <= MAX_QUANTITY:
            raise _Refer
        unit_price = _money(line.get("unit_price"))
        line_total = unit_price * quantity
        if line_total > MONEY_MAX:
            raise _Refer
        total += line_total
        out_lines.append({"sku": _text(line.get("sku"), _LIMITS["lines.*.sku"]),
                          "quantity": quantity,
                          "unit_price": unit_price})
    if total > MONEY_MAX:
        raise _Refer
    fulfilment, priority = data.get("fulfilment"), data.get("priority", Priority.NORMAL.value)
    if type(fulfilment) is not str or type(priority) is not str \
            or fulfilment not in _FULFILMENT or priority not in _PRIORITY:
        raise _Refer
    phone = _text(customer.get("phone"), _LIMITS["customer.phone"])
    if not _PHONE.search(phone):  # as DRF's RegexValidator
        raise _Refer
    window = data.get("delivery_window")
    if window is not None:
        window = validated(WindowIn, window)  # datetimes: DRF's parsing and time zones
    validated_data = {
        "external_id": _text(data.get("external_id"), _LIMITS["external_id"]),
        "customer": {"name": _text(customer.get("name"), _LIMITS["customer.name"]),
                     "phone": phone,
                     "email": _email(customer)},
        "lines": out_lines,
        "shipping_address": {
            "province": _text(address.get("province"), _LIMITS["shipping_address.province"]),
            "city": _text(address.get("city"), _LIMITS["shipping_address.city"]),
            "district": _text(address.get("district"), _LIMITS["shipping_address.district"]),
            "line1": _text(address.get("line1"), _LIMITS["shipping_address.line1"]),
            "lat": _degrees(address.get("lat"), 90),
            "lng": _degrees(address.get("lng"), 180),
        },
        "fulfilment": fulfilment,
        "delivery_window": window,
        "paid_amount": _money(data.get("paid_amount")),
        "note": _text(data.get("note", ""), _LIMITS["note"], blank=True),
        "priority": priority,
    }
    skus = skus_for_order(codes={line["sku"] for line in out_lines})
    for line in out_lines:
        if line["sku"] not in skus:
            raise _Refer
        line["sku_obj"] = skus[line["sku"]]
    return validated_data
