from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.api.fields import Text
from customer_service.enums import ReturnKind
from customer_service.models import ReturnLine, ReturnRequest


class ReturnLineIn(serializers.Serializer):
    sku = Text(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=9999)


class ReturnIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ReturnKind.choices)
    lines = serializers.ListField(child=ReturnLineIn(), min_length=1, max_length=200)
    reason = Text(max_length=1000, required=False, allow_blank=True, default="")

    def validate_lines(self, lines):
        seen = set()
        for line in lines:
            if line["sku"] in seen:
                raise serializers.ValidationError(_("List each SKU once."))
            seen.add(line["sku"])
        return lines


class ReturnLineOut(serializers.ModelSerializer):
    sku = serializers.CharField(source="order_line.sku_code")

    class Meta:
        model = ReturnLine
        fields = ["sku", "quantity"]


class ReturnOut(serializers.ModelSerializer):
    order = serializers.CharField(source="order.number")
    lines = ReturnLineOut(many=True)

    class Meta:
        model = ReturnRequest
        fields = ["id", "order", "kind", "status", "reason", "within_no_reason_window", "lines",
                  "created_at"]
