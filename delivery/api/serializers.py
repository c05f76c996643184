from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.fields import Text
from delivery.enums import COURIER_STATUS_EVENTS, FailureReason, ShipmentEventKind
from delivery.models import Delivery, Shipment, ShipmentEvent

MAX_LINES = 200


def inline_choice(choices, **kwargs) -> serializers.ChoiceField:
    """A choice field documented inline (no shared enum component whose name
    could collide with another app's `kind` or `reason`)."""

    @extend_schema_field({"type": "string", "enum": [value for value, _label in choices]})
    class InlineChoice(serializers.ChoiceField):
        pass

    return InlineChoice(choices=choices, **kwargs)


def _latitude(**kwargs):
    return serializers.DecimalField(max_digits=9, decimal_places=6, min_value=-90, max_value=90,
                                    **kwargs)


def _longitude(**kwargs):
    return serializers.DecimalField(max_digits=9, decimal_places=6, min_value=-180,
                                    max_value=180, **kwargs)


# --- courier app ---------------------------------------------------------------------------


class TokenIn(serializers.Serializer):
    username = Text(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class TokenOut(serializers.Serializer):
    token = serializers.CharField()
    courier = serializers.CharField()


class PickupLineIn(serializers.Serializer):
    sku = Text(max_length=64)
    quantity = serializers.IntegerField(min_value=0, max_value=9999)


class PickupIn(serializers.Serializer):
    lines = serializers.ListField(child=PickupLineIn(), min_length=1, max_length=MAX_LINES)

    def validate_lines(self, lines):
        seen = set()
        for line in lines:
            if line["sku"] in seen:
                raise serializers.ValidationError(_("List each SKU once."))
            seen.add(line["sku"])
        return lines


class DigitsString(serializers.RegexField):
    """Digits sent as a string: a number would lose its leading zeros."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class HandoverIn(serializers.Serializer):
    code = DigitsString(r"^[0-9]{6}$", error_messages={
        "invalid": _("Send the 6-digit hand-over code as a string.")})


class FailIn(serializers.Serializer):
    reason = inline_choice(FailureReason.choices)
    note = Text(max_length=255, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if attrs["reason"] == FailureReason.OTHER and not attrs["note"].strip():
            raise serializers.ValidationError({"note": [_("Describe what happened.")]})
        return attrs


class RatingIn(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = Text(max_length=255, required=False, allow_blank=True, default="")


class StatusEventIn(serializers.Serializer):
    kind = inline_choice([(k.value, k.label) for k in COURIER_STATUS_EVENTS])
    note = Text(max_length=255, required=False, allow_blank=True, default="")
    lat = _latitude(required=False, allow_null=True, default=None)
    lng = _longitude(required=False, allow_null=True, default=None)

    def validate(self, attrs):
        if (attrs["lat"] is None) != (attrs["lng"] is None):
            raise serializers.ValidationError({"lng": [_("Send both latitude and longitude.")]})
        return attrs


class LocationIn(serializers.Serializer):
    lat = _latitude()
    lng = _longitude()
    recorded_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class LocationOut(serializers.Serializer):
    lat = serializers.DecimalField(max_digits=9, decimal_places=6)
    lng = serializers.DecimalField(max_digits=9, decimal_places=6)
    recorded_at = serializers.DateTimeField()


class EventOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    note = serializers.CharField()
    created_at = serializers.DateTimeField()


class StopLineOut(serializers.Serializer):
    sku = serializers.CharField(source="sku_code")
    name = serializers.CharField()
    quantity = serializers.IntegerField()


class StopOut(serializers.ModelSerializer):
    """A stop in the courier's route (never the hand-over code)."""

    status = serializers.CharField(read_only=True)
    order = serializers.CharField(source="order.number")
    customer = serializers.CharField(source="order.customer.name")
    phone = serializers.CharField(source="order.customer.phone")
    address = serializers.SerializerMethodField()
    lat = serializers.DecimalField(source="order.lat", max_digits=9, decimal_places=6,
                                   allow_null=True)
    lng = serializers.DecimalField(source="order.lng", max_digits=9, decimal_places=6,
                                   allow_null=True)
    note = serializers.CharField(source="order.note")
    lines = StopLineOut(many=True, source="order.lines.all")

    class Meta:
        model = Delivery
        fields = ["id", "sequence", "status", "order", "customer", "phone", "address", "lat",
                  "lng", "note", "promised_start", "promised_end", "eta", "items",
                  "weight_grams", "volume_l", "picked_up_at", "delivered_at", "rating", "lines"]

    def get_address(self, obj) -> str:
        order = obj.order
        return f"{order.province}{order.city}{order.district}{order.line1}"


class DeliveryOut(serializers.ModelSerializer):
    order = serializers.CharField(source="order.number")
    status = serializers.CharField(read_only=True)
    failure_reason = serializers.CharField(read_only=True)

    class Meta:
        model = Delivery
        fields = ["id", "order", "status", "sequence", "eta", "promised_end", "picked_up_at",
                  "delivered_at", "failure_reason", "failure_note", "rating", "rating_comment",
                  "courier"]


# --- staff ------------------------------------------------------------------------------------


class MoveIn(serializers.Serializer):
    courier = serializers.IntegerField(min_value=1)
    position = serializers.IntegerField(min_value=1, max_value=10_000)
    reason = Text(max_length=255, required=False, allow_blank=True, default="")


class ShipmentIn(serializers.Serializer):
    order = serializers.RegexField(r"^[A-Za-z0-9_-]{1,32}$")
    waybill_no = serializers.RegexField(r"^[A-Za-z0-9-]{4,40}$")
    carrier = serializers.RegexField(r"^[a-z0-9_-]{1,32}$", required=False, allow_null=True,
                                     default=None)
    weight_grams = serializers.IntegerField(min_value=1, max_value=1_000_000, required=False,
                                            allow_null=True, default=None)
    cold_chain = serializers.BooleanField(required=False, default=False)


class ShipmentOut(serializers.ModelSerializer):
    order = serializers.CharField(source="order.number")
    carrier = serializers.CharField(source="carrier.code")
    status = serializers.CharField(read_only=True)

    class Meta:
        model = Shipment
        fields = ["id", "order", "carrier", "waybill_no", "status", "weight_grams", "price",
                  "shipped_at", "promised_by", "delivered_at", "last_event_at", "stalled_at"]


class ShipmentEventIn(serializers.Serializer):
    carrier = serializers.RegexField(r"^[a-z0-9_-]{1,32}$")
    waybill_no = serializers.RegexField(r"^[A-Za-z0-9-]{4,40}$")
    kind = inline_choice(ShipmentEventKind.choices)
    occurred_at = serializers.DateTimeField()
    location = Text(max_length=100, required=False, allow_blank=True, default="")
    description = Text(max_length=255, required=False, allow_blank=True, default="")


class ShipmentEventOut(serializers.ModelSerializer):
    waybill_no = serializers.CharField(source="shipment.waybill_no")
    shipment_status = serializers.CharField(source="shipment.status")
    kind = serializers.CharField(read_only=True)
    source = serializers.CharField(read_only=True)

    class Meta:
        model = ShipmentEvent
        fields = ["id", "waybill_no", "kind", "occurred_at", "location", "description", "source",
                  "shipment_status"]


class ImportIn(serializers.Serializer):
    file = serializers.FileField(max_length=200, allow_empty_file=False)

    def validate_file(self, upload):
        if upload.size > 5 * 1024 * 1024:
            raise serializers.ValidationError(_("At most 5 MB."))
        return upload


class ImportOut(serializers.Serializer):
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField()


class SuggestIn(serializers.Serializer):
    province = Text(max_length=50)
    city = Text(max_length=50)
    weight_grams = serializers.IntegerField(min_value=1, max_value=1_000_000)
    cold_chain = serializers.BooleanField(required=False, default=False)


class CarrierOptionOut(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    price = serializers.DecimalField(max_digits=12, decimal_places=2)
    promise_hours = serializers.IntegerField()
    damage_rate = serializers.DecimalField(max_digits=6, decimal_places=4)
    loss_rate = serializers.DecimalField(max_digits=6, decimal_places=4)
    complaint_rate = serializers.DecimalField(max_digits=6, decimal_places=4)
    late_rate = serializers.DecimalField(max_digits=6, decimal_places=4)
    score = serializers.DecimalField(max_digits=14, decimal_places=2)
    reasons = serializers.ListField(child=serializers.CharField())
