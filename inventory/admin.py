"""Staff screens for the catalogue and stock.

Stock levels and the ledger are read-only: stock changes only through the
stock services (receipts, reservations, stocktake adjustments), which write
a movement and the book together."""

from django.contrib import admin
from django.db.models import Count, F, Sum
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import display

from inventory.models import Location, Product, Sku, StockLevel, StockMovement


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SkuInline(TabularInline):
    model = Sku
    extra = 0
    fields = ("code", "name", "attributes", "price", "weight_grams", "is_active")
    show_change_link = True


@admin.register(Product)
class ProductAdmin(SimpleHistoryAdmin, ModelAdmin):
    list_display = ("code", "name", "category", "price", "sku_count", "is_active")
    list_filter = ("category", "is_active")
    search_fields = ("code", "name", "category")
    inlines = [SkuInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(sku_count=Count("skus"))

    @display(description=_("SKUs"), ordering="sku_count")
    def sku_count(self, obj):
        return obj.sku_count


class StockLevelInline(ReadOnlyAdminMixin, TabularInline):
    model = StockLevel
    extra = 0
    can_delete = False
    fields = ("location", "on_hand", "reserved", "available_now", "updated_at")
    readonly_fields = fields
    verbose_name_plural = _("stock by location")

    @display(description=_("available"))
    def available_now(self, obj):
        return obj.available


@admin.register(Sku)
class SkuAdmin(SimpleHistoryAdmin, ModelAdmin):
    list_display = ("code", "name", "product", "price", "on_hand_total", "available_total",
                    "is_active")
    list_filter = ("is_active", "product__category")
    search_fields = ("code", "name", "product__name")
    list_select_related = ("product",)
    raw_id_fields = ("product",)
    inlines = [StockLevelInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            on_hand_total=Sum("levels__on_hand"),
            available_total=Sum(F("levels__on_hand") - F("levels__reserved")))

    @display(description=_("on hand"), ordering="on_hand_total")
    def on_hand_total(self, obj):
        return obj.on_hand_total or 0

    @display(description=_("available"), ordering="available_total")
    def available_total(self, obj):
        return obj.available_total or 0


@admin.register(Location)
class LocationAdmin(ModelAdmin):
    list_display = ("code", "name", "kind", "city", "district", "is_main_warehouse",
                    "is_active")
    list_filter = ("kind", "is_active", "city")
    search_fields = ("code", "name", "address")

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StockLevel)
class StockLevelAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ("sku", "location", "on_hand", "reserved", "available_now", "updated_at")
    list_filter = ("location", "sku__product__category")
    search_fields = ("sku__code", "sku__name")
    list_select_related = ("sku", "location")
    readonly_fields = ("sku", "location", "on_hand", "reserved", "updated_at")

    @display(description=_("available"))
    def available_now(self, obj):
        return obj.available


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ("created_at", "kind", "sku", "location", "on_hand_delta", "reserved_delta",
                    "order", "reason", "actor")
    list_filter = ("kind", "location")
    search_fields = ("sku__code", "order__number", "reason")
    list_select_related = ("sku", "location", "order", "actor")
    readonly_fields = [f.name for f in StockMovement._meta.fields]
    date_hierarchy = "created_at"
