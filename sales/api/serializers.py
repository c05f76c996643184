from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.fields import MoneyString, Text
from core.api.reuse import represented
from inventory.models import Sku, StockLevel
from inventory.selectors import skus_for_order
from sales.enums import Fulfilment, OrderStatus, Priority
from sales.models import Channel, Customer, OrderAllocation, OrderEvent

MAX_LINES = 200
MONEY_MAX = Decimal("9999999999.99")
MAX_QUANTITY = 9999
PHONE_PATTERN = r"^\+?[0-9][0-9\- ]{4,19}$"


class CustomerIn(serializers.Serializer):
    name = Text(max_length=100)
    phone = serializers.RegexField(PHONE_PATTERN, max_length=20,
                                   error_messages={"invalid": _("Enter a valid phone number.")})
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True, default="")


class LineIn(serializers.Serializer):
    sku = Text(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)
    unit_price = MoneyString()


class AddressIn(serializers.Serializer):
    province = Text(max_length=50)
    city = Text(max_length=50)
    district = Text(max_length=50)
    line1 = Text(max_length=255)
    lat = serializers.DecimalField(max_digits=9, decimal_places=6, min_value=-90, max_value=90,
                                   required=False, allow_null=True, default=None)
    lng = serializers.DecimalField(max_digits=9, decimal_places=6, min_value=-180,
                                   max_value=180, required=False, allow_null=True, default=None)


class WindowIn(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()

    def validate(self, attrs):
        if attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": [_("The window must end after it starts.")]})
        return attrs


class OrderIn(serializers.Serializer):
    """The partner's order (SPEC §9)."""

    external_id = Text(max_length=64)
    customer = CustomerIn()
    lines = serializers.ListField(child=LineIn(), min_length=1, max_length=MAX_LINES,
                                  error_messages={
                                      "max_length": _("At most %(n)d lines per order.")
                                      % {"n": MAX_LINES}})
    shipping_address = AddressIn()
    fulfilment = serializers.ChoiceField(choices=Fulfilment.choices)
    delivery_window = WindowIn(required=False, allow_null=True, default=None)
    paid_amount = MoneyString()
    note = Text(max_length=500, required=False, allow_blank=True, default="")
    priority = serializers.ChoiceField(choices=Priority.choices, required=False,
                                       default=Priority.NORMAL)

    def validate(self, attrs):
        total = Decimal(0)
        errors = {}
        for index, line in enumerate(attrs["lines"]):
            line_total = line["unit_price"] * line["quantity"]
            total += line_total
            if line_total > MONEY_MAX:
                errors[f"lines.{index}.quantity"] = [_("The line total is too large.")]
        if errors:
            raise serializers.ValidationError(errors)
        if total > MONEY_MAX:
            raise serializers.ValidationError({"lines": [_("The order total is too large.")]})
        return attrs

    def validate_lines(self, lines):
        codes = {line["sku"] for line in lines}
        skus = skus_for_order(codes=codes)
        errors = [{} if line["sku"] in skus else {"sku": [_("Unknown SKU.")]} for line in lines]
        if any(errors):
            raise serializers.ValidationError(errors)
        for line in lines:
            line["sku_obj"] = skus[line["sku"]]
        return lines


def _money_out(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True, **kwargs)


# Output serializers are plain Serializers with declared fields: a
# ModelSerializer rebuilds its fields from the model on every instantiation,
# which was a large share of each order's CPU time.
class OrderLineOut(serializers.Serializer):
    sku = serializers.CharField(source="sku_code")
    name = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = _money_out()
    discount = _money_out()
    line_total = _money_out()


class WindowOut(serializers.Serializer):
    start = serializers.DateTimeField(source="window_start")
    end = serializers.DateTimeField(source="window_end")


class OrderOut(serializers.Serializer):
    number = serializers.CharField()
    external_id = serializers.CharField()
    channel = serializers.CharField(source="channel.code")
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    exception_reason = serializers.SerializerMethodField()
    priority = serializers.ChoiceField(choices=Priority.choices)
    lines = serializers.SerializerMethodField()
    subtotal = _money_out()
    discount_total = _money_out()
    total = _money_out()
    paid_amount = _money_out()
    fulfilment = serializers.ChoiceField(choices=Fulfilment.choices)
    delivery_window = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(OrderLineOut(many=True))
    def get_lines(self, order) -> list:
        # A just-created order carries its lines; no need to read them back.
        lines = getattr(order, "lines_cache", None)
        return [represented(OrderLineOut, line)
                for line in (lines if lines is not None else order.lines.all())]

    def get_exception_reason(self, order) -> str | None:
        return order.exception_reason if order.status == OrderStatus.EXCEPTION else None

    def get_delivery_window(self, order) -> dict | None:
        if order.window_start is None:
            return None
        return represented(WindowOut, order)


class OrderEventOut(serializers.ModelSerializer):
    status = serializers.CharField(source="to_status")

    class Meta:
        model = OrderEvent
        fields = ["kind", "status", "reason", "created_at"]


class TrackingOut(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.CharField()
    timeline = OrderEventOut(many=True)
    events = serializers.ListField(child=serializers.DictField())


class CancelIn(serializers.Serializer):
    reason = Text(max_length=255, required=False, allow_blank=True, default="")


class StockOut(serializers.Serializer):
    sku = serializers.CharField(source="code")
    name = serializers.CharField()
    available = serializers.IntegerField()


# --- staff API (session auth, department permissions) --------------------------------

class ReasonIn(serializers.Serializer):
    reason = Text(max_length=255, required=False, allow_blank=True, default="")


class StaffCustomerOut(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["name", "phone", "email"]


class StaffAddressOut(serializers.Serializer):
    province = serializers.CharField()
    city = serializers.CharField()
    district = serializers.CharField()
    line1 = serializers.CharField()
    lat = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    lng = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)


class StaffOrderOut(OrderOut):
    """The partner's view of an order plus what staff work with.

    `status` is plain text here so the schema keeps one OrderStatus enum
    (an enum shared by several components gets a hashed name)."""

    status = serializers.CharField(read_only=True)
    customer = StaffCustomerOut(read_only=True)
    shipping_address = StaffAddressOut(source="*", read_only=True)
    pickup_store = serializers.CharField(source="pickup_store.name", default=None,
                                         read_only=True)
    note = serializers.CharField(read_only=True)
    review_deadline = serializers.DateTimeField(read_only=True)
    review_overdue_at = serializers.DateTimeField(read_only=True, allow_null=True)


class StaffAllocationOut(serializers.ModelSerializer):
    sku = serializers.CharField(source="sku.code")
    location = serializers.CharField(source="location.code")

    class Meta:
        model = OrderAllocation
        fields = ["sku", "location", "quantity"]


class StaffOrderEventOut(serializers.ModelSerializer):
    class Meta:
        model = OrderEvent
        fields = ["kind", "from_status", "to_status", "actor_label", "reason", "created_at"]


class StaffOrderDetailOut(StaffOrderOut):
    allocations = StaffAllocationOut(many=True, read_only=True)
    timeline = StaffOrderEventOut(many=True, read_only=True, source="events")


class ChannelOut(serializers.ModelSerializer):
    kind = serializers.CharField(read_only=True)  # text: `kind` is also a return's enum
    locations = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = Channel
        fields = ["code", "name", "kind", "commission_rate", "fee_terms", "locations",
                  "is_active"]


class StockLevelOut(serializers.ModelSerializer):
    sku = serializers.CharField(source="sku.code")
    location = serializers.CharField(source="location.code")
    available = serializers.IntegerField(read_only=True)

    class Meta:
        model = StockLevel
        fields = ["sku", "location", "on_hand", "reserved", "available", "updated_at"]


class SkuLevelOut(serializers.ModelSerializer):
    location = serializers.CharField(source="location.code")
    location_name = serializers.CharField(source="location.name")
    available = serializers.IntegerField(read_only=True)

    class Meta:
        model = StockLevel
        fields = ["location", "location_name", "on_hand", "reserved", "available"]


class SkuStockOut(serializers.ModelSerializer):
    product = serializers.CharField(source="product.code")
    category = serializers.CharField(source="product.category")
    on_hand = serializers.IntegerField(read_only=True)
    reserved = serializers.IntegerField(read_only=True)
    available = serializers.IntegerField(read_only=True)
    levels = SkuLevelOut(many=True, read_only=True)

    class Meta:
        model = Sku
        fields = ["code", "name", "product", "category", "attributes", "price", "is_active",
                  "on_hand", "reserved", "available", "levels"]
