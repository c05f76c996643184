"""Categories, keywords, products (listings) and SKUs, with import/export."""

from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import Count, F, Sum
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.import_export.forms import ExportForm, ImportForm
from unfold.decorators import display
from unfold.overrides import FORMFIELD_OVERRIDES_INLINE

from core.errors import DomainError
from inventory.admin.base import IMPORT_FORMATS, ReadOnlyAdminMixin
from inventory.imports import ProductResource, SkuResource
from inventory.listings import (
    category_save,
    product_category_name,
    product_completeness,
    products_with_listing_checks,
)
from inventory.models import (
    Category,
    CategoryAttribute,
    Keyword,
    Product,
    ProductImage,
    Sku,
    StockLevel,
)


class ImportExportBase(ImportExportModelAdmin):
    """CSV/XLSX only; importing needs add and change rights on the model;
    the file is previewed (dry run) and the import is all or nothing."""

    import_form_class = ImportForm
    export_form_class = ExportForm
    import_formats = IMPORT_FORMATS
    export_formats = IMPORT_FORMATS

    def has_import_permission(self, request):
        opts = self.opts
        return (request.user.has_perm(f"{opts.app_label}.add_{opts.model_name}")
                and request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}"))

    def has_export_permission(self, request):
        return self.has_view_permission(request)

    def get_import_data_kwargs(self, **kwargs):
        data = super().get_import_data_kwargs(**kwargs)
        data["rollback_on_validation_errors"] = True
        return data


# --- categories ------------------------------------------------------------------------------

class CategoryAttributeInline(TabularInline):
    model = CategoryAttribute
    extra = 0
    fields = ("name", "is_required", "position")


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ("parent", "code", "name", "position")

    def clean(self):
        cleaned = super().clean()
        parent = cleaned.get("parent")
        if self.instance.pk and parent is not None and (
                parent.pk == self.instance.pk or parent.path.startswith(self.instance.path)):
            self.add_error("parent", gettext("Choose a category outside this one."))
        return cleaned


@admin.register(Category)
class CategoryAdmin(ModelAdmin):
    form = CategoryForm
    list_display = ("tree_name", "code", "required_attributes", "product_count")
    search_fields = ("name", "code")
    inlines = [CategoryAttributeInline]
    readonly_fields = ("path",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(product_count=Count("products"))

    @display(description=_("category"), ordering="path")
    def tree_name(self, obj):
        depth = obj.path.strip("/").count("/")
        return format_html("{}{}", "— " * depth, obj.name)

    @display(description=_("required attributes"))
    def required_attributes(self, obj):
        return "、".join(a.name for a in obj.attributes.all() if a.is_required)

    @display(description=_("products"), ordering="product_count")
    def product_count(self, obj):
        return obj.product_count

    def save_model(self, request, obj, form, change):
        try:
            category_save(category=obj, actor=request.user)
        except DomainError as exc:  # raced with another move; the form checked already
            self.message_user(request, exc.message, level="error")


@admin.register(Keyword)
class KeywordAdmin(ModelAdmin):
    list_display = ("word", "product_count")
    search_fields = ("word",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(product_count=Count("products"))

    @display(description=_("products"), ordering="product_count")
    def product_count(self, obj):
        return obj.product_count


# --- products (listings) --------------------------------------------------------------------

class ListingCompletenessFilter(admin.SimpleListFilter):
    title = _("listing completeness")
    parameter_name = "listing"

    def lookups(self, request, model_admin):
        return [("complete", _("Complete")), ("incomplete", _("Incomplete"))]

    def queryset(self, request, queryset):
        if self.value() == "complete":
            return queryset.filter(listing_complete=True)
        if self.value() == "incomplete":
            return queryset.filter(listing_complete=False)
        return queryset


# Links to images and videos are https (Django 6's default; silences its warning).
URL_HTTPS = {models.URLField: {"assume_scheme": "https"}}
INLINE_URL_HTTPS = {**FORMFIELD_OVERRIDES_INLINE, models.URLField: {
    **FORMFIELD_OVERRIDES_INLINE.get(models.URLField, {}), "assume_scheme": "https"}}


class ProductImageInline(TabularInline):
    model = ProductImage
    extra = 0
    fields = ("position", "url", "image", "alt_text")
    formfield_overrides = INLINE_URL_HTTPS


class SkuInline(TabularInline):
    model = Sku
    extra = 0
    fields = ("code", "name", "attributes", "price", "unit_cost", "weight_grams", "is_active")
    show_change_link = True


SCORE_COLOURS = {"complete": "success", "partial": "warning", "poor": "danger"}


@admin.register(Product)
class ProductAdmin(SimpleHistoryAdmin, ImportExportBase, ModelAdmin):
    resource_classes = [ProductResource]
    formfield_overrides = URL_HTTPS
    list_display = ("code", "name", "category_node", "price", "sku_count", "listing_score_label",
                    "is_active")
    list_filter = (ListingCompletenessFilter, "category_node", "is_active")
    search_fields = ("code", "name", "title", "keywords__word")
    autocomplete_fields = ("category_node", "keywords")
    list_select_related = ("category_node",)
    inlines = [ProductImageInline, SkuInline]
    readonly_fields = ("category", "listing_check")
    fieldsets = (
        (None, {"fields": ("code", "name", "category_node", "category", "price", "is_active")}),
        (_("Listing"), {"fields": ("listing_check", "title", "keywords", "attributes",
                                   "description", "video_url")}),
    )

    def get_queryset(self, request):
        qs = super().get_queryset(request).annotate(sku_count=Count("skus", distinct=True))
        return products_with_listing_checks(qs)

    @display(description=_("SKUs"), ordering="sku_count")
    def sku_count(self, obj):
        return obj.sku_count

    @display(description=_("listing score"), ordering="listing_passed",
             label={"100": "success", "80": "warning", "60": "warning", "40": "danger",
                    "20": "danger", "0": "danger"})
    def listing_score_label(self, obj):
        return str(obj.listing_score), f"{obj.listing_score}%"

    @display(description=_("listing check"))
    def listing_check(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        result = product_completeness(obj)
        if result.is_complete:
            return format_html("<strong>{}%</strong> {}", result.score,
                               gettext("Complete: ready to list on the channels."))
        items = list(result.missing)
        if result.missing_attributes:
            items.append(gettext("Missing attributes: %(names)s")
                         % {"names": "、".join(result.missing_attributes)})
        return format_html("<strong>{}%</strong><ul class=\"list-disc ml-4\">{}</ul>",
                           result.score,
                           format_html_join("", "<li>{}</li>", ((item,) for item in items)))

    def save_model(self, request, obj, form, change):
        obj.category = product_category_name(obj.category_node)
        super().save_model(request, obj, form, change)


# --- SKUs ---------------------------------------------------------------------------------------

class StockLevelInline(ReadOnlyAdminMixin, TabularInline):
    model = StockLevel
    extra = 0
    can_delete = False
    fields = ("location", "on_hand", "reserved", "available_now", "in_transit", "returned",
              "quarantine", "statement_link", "updated_at")
    readonly_fields = fields
    verbose_name_plural = _("stock by location")

    @display(description=_("available"))
    def available_now(self, obj):
        return obj.available

    @display(description=_("statement"))
    def statement_link(self, obj):
        from django.urls import reverse

        return format_html('<a class="text-primary-600" href="{}">{}</a>',
                           reverse("admin:inventory_stocklevel_statement", args=[obj.pk]),
                           gettext("Statement"))


@admin.register(Sku)
class SkuAdmin(SimpleHistoryAdmin, ImportExportBase, ModelAdmin):
    resource_classes = [SkuResource]
    list_display = ("code", "name", "product", "price", "unit_cost", "on_hand_total",
                    "available_total", "is_active")
    list_filter = ("is_active", "product__category_node", "product__category")
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

