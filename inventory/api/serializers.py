from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.api.fields import Text
from inventory.listings import CHECKS
from inventory.models import Product, ReplenishmentSuggestion, StockAlert
from inventory.services import MAX_UNITS

MAX_COUNT_LINES = 5000


class ListingOut(serializers.ModelSerializer):
    category = serializers.CharField(source="category_node.code", default=None)
    category_name = serializers.CharField(source="category_node.name", default=None)
    title = serializers.CharField(source="listing_title")
    keywords = serializers.SlugRelatedField(slug_field="word", many=True, read_only=True)
    image_count = serializers.IntegerField()
    score = serializers.IntegerField(source="listing_score")
    complete = serializers.BooleanField(source="listing_complete")
    checks = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = ["code", "name", "title", "category", "category_name", "keywords", "price",
                  "video_url", "image_count", "score", "complete", "checks"]

    def get_checks(self, obj) -> dict[str, bool]:
        return {key: bool(getattr(obj, f"check_{key}")) for key in CHECKS}


class ListingDetailOut(ListingOut):
    missing = serializers.SerializerMethodField()
    missing_attributes = serializers.SerializerMethodField()
    attributes = serializers.JSONField()
    description = serializers.CharField()

    class Meta(ListingOut.Meta):
        fields = [*ListingOut.Meta.fields, "attributes", "description", "missing",
                  "missing_attributes"]

    def _completeness(self, obj):
        from inventory.listings import product_completeness

        if not hasattr(obj, "_completeness"):
            obj._completeness = product_completeness(obj)
        return obj._completeness

    def get_missing(self, obj) -> list[str]:
        return self._completeness(obj).missing

    def get_missing_attributes(self, obj) -> list[str]:
        return self._completeness(obj).missing_attributes


class StatementQuery(serializers.Serializer):
    sku = Text(max_length=64)
    location = Text(max_length=32)
    start = serializers.DateTimeField(required=False)
    end = serializers.DateTimeField(required=False)

    def validate(self, attrs):
        if attrs.get("start") and attrs.get("end") and attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": [_("Must be after the start.")]})
        return attrs


class StatementLineOut(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    reference = serializers.CharField()
    reason = serializers.CharField()
    actor = serializers.CharField()
    on_hand_in = serializers.IntegerField()
    on_hand_out = serializers.IntegerField()
    on_hand_balance = serializers.IntegerField()
    reserved_delta = serializers.IntegerField()
    reserved_balance = serializers.IntegerField()
    other = serializers.DictField(child=serializers.IntegerField())
    balances = serializers.DictField(child=serializers.IntegerField())


class StatementOut(serializers.Serializer):
    sku = serializers.CharField()
    location = serializers.CharField()
    opening = serializers.DictField(child=serializers.IntegerField())
    closing = serializers.DictField(child=serializers.IntegerField())
    total_in = serializers.IntegerField()
    total_out = serializers.IntegerField()
    lines = StatementLineOut(many=True)


class AlertOut(serializers.ModelSerializer):
    sku = serializers.CharField(source="sku.code")
    location = serializers.CharField(source="location.code")

    class Meta:
        model = StockAlert
        fields = ["id", "sku", "location", "kind", "status", "available", "reorder_point",
                  "opened_at", "checked_at", "closed_at"]


class SuggestionOut(serializers.ModelSerializer):
    sku = serializers.CharField(source="sku.code")
    location = serializers.CharField(source="location.code")
    source = serializers.CharField(source="source.code", default=None)
    transfer = serializers.CharField(source="transfer.number", default=None)
    purchase_request = serializers.CharField(source="purchase_request.number", default=None)

    class Meta:
        model = ReplenishmentSuggestion
        fields = ["id", "sku", "location", "kind", "source", "quantity", "available",
                  "in_transit", "avg_daily_sales", "trend", "lead_time_days", "status",
                  "created_at", "decided_at", "transfer", "purchase_request"]


class ApproveIn(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_UNITS, required=False)


class DismissIn(serializers.Serializer):
    reason = Text(max_length=255, required=False, allow_blank=True, default="")


class CountLineIn(serializers.Serializer):
    sku = Text(max_length=64)
    counted = serializers.IntegerField(min_value=0, max_value=MAX_UNITS)


class CountsIn(serializers.Serializer):
    counts = serializers.ListField(child=CountLineIn(), min_length=1,
                                   max_length=MAX_COUNT_LINES)

    def validate_counts(self, value):
        seen = set()
        for index, line in enumerate(value):
            if line["sku"] in seen:
                raise serializers.ValidationError(
                    {str(index): {"sku": [_("This SKU appears twice.")]}})
            seen.add(line["sku"])
        return value


class CountsOut(serializers.Serializer):
    recorded = serializers.IntegerField()
