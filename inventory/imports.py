"""Import/export of products, SKUs and opening stock (CSV/XLSX) through
django-import-export: a preview (dry run) with row-level errors first, then
the import in one transaction that is rolled back entirely if any row fails,
so a bad file changes nothing. Opening stock goes through `stock_receive`,
so every unit has its ledger movement."""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields, resources, widgets

from core.audit import audit_record
from core.money import money
from inventory.enums import MovementKind
from inventory.models import (
    Category,
    Keyword,
    Location,
    OpeningStock,
    Product,
    Sku,
    StockMovement,
)
from inventory.services import stock_receive

OPENING_REASON = gettext_lazy("opening stock (import)")


class CodeWidget(widgets.ForeignKeyWidget):
    """A foreign key by code; an unknown code is a field error, not a crash."""

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return None
        try:
            return super().clean(str(value).strip(), row, **kwargs)
        except self.model.DoesNotExist as exc:
            raise ValueError(_("Unknown code: %(code)s") % {"code": value}) from exc


class StrictDecimalWidget(widgets.DecimalWidget):
    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return None
        try:
            amount = Decimal(str(value).strip())
        except (InvalidOperation, ValueError) as exc:
            raise ValueError(_("Not an amount: %(value)s") % {"value": value}) from exc
        if not amount.is_finite() or amount < 0:
            raise ValueError(_("Enter an amount of zero or more."))
        return money(amount)


class StrictIntegerWidget(widgets.IntegerWidget):
    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return None
        text = str(value).strip()
        try:
            number = Decimal(text)
        except (InvalidOperation, ValueError) as exc:
            raise ValueError(_("Not a whole number: %(value)s") % {"value": value}) from exc
        if not number.is_finite() or number != number.to_integral_value():
            raise ValueError(_("Not a whole number: %(value)s") % {"value": value})
        return int(number)


class KeywordsWidget(widgets.ManyToManyWidget):
    """`a;b;c`: keywords, created when new."""

    def __init__(self):
        super().__init__(Keyword, separator=";", field="word")

    def clean(self, value, row=None, **kwargs):
        words = [w.strip() for w in str(value or "").replace("；", ";").split(";") if w.strip()]
        for word in words:
            if len(word) > 50:
                raise ValueError(_("Keyword too long: %(word)s") % {"word": word})
        return [Keyword.objects.get_or_create(word=word)[0] for word in words]


class AttributesWidget(widgets.Widget):
    """`材质=棉;季节=夏季` ⇄ {"材质": "棉", "季节": "夏季"}."""

    def clean(self, value, row=None, **kwargs):
        out = {}
        for part in str(value or "").replace("；", ";").split(";"):
            if not part.strip():
                continue
            if "=" not in part:
                raise ValueError(_("Write attributes as name=value;name=value."))
            name, _sep, text = part.partition("=")
            if not name.strip():
                raise ValueError(_("Write attributes as name=value;name=value."))
            out[name.strip()] = text.strip()
        return out

    def render(self, value, obj=None, **kwargs):
        return ";".join(f"{k}={v}" for k, v in (value or {}).items())


class AuditedResource(resources.ModelResource):
    """Rolls back on validation errors too, and writes one audit row per import."""

    audit_action = "import"

    def import_data(self, dataset, dry_run=False, raise_errors=False, use_transactions=None,
                    collect_failed_rows=False, rollback_on_validation_errors=True, **kwargs):
        return super().import_data(dataset, dry_run=dry_run, raise_errors=raise_errors,
                                   use_transactions=True, collect_failed_rows=collect_failed_rows,
                                   rollback_on_validation_errors=True, **kwargs)

    def after_import(self, dataset, result, **kwargs):
        super().after_import(dataset, result, **kwargs)
        if kwargs.get("dry_run") or result.has_errors() or result.has_validation_errors():
            return
        user = kwargs.get("user")
        first = next((row.object_id for row in result.rows if row.object_id), None)
        if first is not None:
            audit_record(actor=user, action=self.audit_action,
                         target=self._meta.model(pk=first),
                         reason=str(kwargs.get("file_name") or ""),
                         data={"rows": len(dataset), "totals": {
                             k: v for k, v in result.totals.items() if v}})


class ProductResource(AuditedResource):
    audit_action = "product.import"
    category = fields.Field(attribute="category_node", column_name="category",
                            widget=CodeWidget(Category, field="code"))
    keywords = fields.Field(attribute="keywords", column_name="keywords",
                            widget=KeywordsWidget())
    attributes = fields.Field(attribute="attributes", column_name="attributes",
                              widget=AttributesWidget())
    price = fields.Field(attribute="price", column_name="price", widget=StrictDecimalWidget())

    class Meta:
        model = Product
        import_id_fields = ["code"]
        fields = ["code", "name", "title", "category", "price", "description", "keywords",
                  "attributes", "video_url", "is_active"]
        export_order = fields
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True

    def before_save_instance(self, instance, row, **kwargs):
        from inventory.listings import product_category_name

        instance.category = product_category_name(instance.category_node)
        if instance.price is None:
            raise ValidationError({"price": _("This field is required.")})


class SkuResource(AuditedResource):
    audit_action = "sku.import"
    product = fields.Field(attribute="product", column_name="product",
                           widget=CodeWidget(Product, field="code"))
    attributes = fields.Field(attribute="attributes", column_name="attributes",
                              widget=AttributesWidget())
    price = fields.Field(attribute="price", column_name="price", widget=StrictDecimalWidget())
    unit_cost = fields.Field(attribute="unit_cost", column_name="unit_cost",
                             widget=StrictDecimalWidget())
    weight_grams = fields.Field(attribute="weight_grams", column_name="weight_grams",
                                widget=StrictIntegerWidget())

    class Meta:
        model = Sku
        import_id_fields = ["code"]
        fields = ["code", "product", "name", "attributes", "price", "unit_cost",
                  "weight_grams", "is_active"]
        export_order = fields
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True


class OpeningStockResource(AuditedResource):
    """sku, location, quantity: received through `stock_receive` (kind
    `opening`). Refused for a SKU-location that already has stock history
    (use a receipt or a stocktake instead), so re-importing a file cannot
    double the stock."""

    audit_action = "opening_stock.import"
    sku = fields.Field(attribute="sku", column_name="sku", widget=CodeWidget(Sku, field="code"))
    location = fields.Field(attribute="location", column_name="location",
                            widget=CodeWidget(Location, field="code"))
    quantity = fields.Field(attribute="opening_quantity", column_name="quantity",
                            widget=StrictIntegerWidget())

    class Meta:
        model = OpeningStock
        import_id_fields = ["sku", "location"]
        fields = ["sku", "location", "quantity"]
        clean_model_instances = False
        skip_diff = True

    def dehydrate_quantity(self, level):
        return level.on_hand

    def get_instance(self, instance_loader, row):
        try:
            return super().get_instance(instance_loader, row)
        except ValueError:  # an unknown code: reported as a field error below
            return None

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        quantity = getattr(instance, "opening_quantity", None)
        if "opening_quantity" not in errors and (quantity is None or quantity <= 0):
            errors["opening_quantity"] = [_("Enter a whole number above zero.")]
        if instance.sku_id is None and "sku" not in errors:
            errors["sku"] = [_("This field is required.")]
        if instance.location_id is None and "location" not in errors:
            errors["location"] = [_("This field is required.")]
        if not errors and StockMovement.objects.filter(
                sku_id=instance.sku_id, location_id=instance.location_id).exists():
            errors["sku"] = [_("%(sku)s already has stock history at %(location)s; use a "
                               "receipt or a stocktake.") % {"sku": instance.sku.code,
                                                              "location": instance.location.code}]
        if errors:
            raise ValidationError(errors)

    def save_instance(self, instance, is_create, row, **kwargs):
        # The stock service writes the level and its ledger movement together.
        with transaction.atomic():
            level = stock_receive(sku=instance.sku, location=instance.location,
                                  quantity=instance.opening_quantity, kind=MovementKind.OPENING,
                                  reason=str(OPENING_REASON), actor=kwargs.get("user"))
        instance.pk = level.pk
