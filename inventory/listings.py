"""Product listings (002 二(三)1-2): the category tree, required attributes,
keywords, images and the completeness check.

A listing is complete when it has at least `MIN_IMAGES` images, a title
containing one of its keywords, every attribute its category (or an
ancestor) requires, a price on every active SKU, and stock on hand somewhere.
`listing_completeness` is the rule on plain inputs; `products_with_listing_checks`
computes the same checks in SQL so lists can be filtered by them."""

from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, NullIf, StrIndex
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.audit import audit_record
from core.errors import DomainError
from inventory.enums import InventoryErrorCode
from inventory.models import Category, CategoryAttribute, Product, ProductImage, Sku, StockLevel

MIN_IMAGES = 6

CHECKS = {
    # `lazy % values` would translate once, at import, in the default language.
    "images": lazy(lambda: _("At least %(n)d images") % {"n": MIN_IMAGES}, str)(),
    "keyword_in_title": gettext_lazy("A keyword in the title"),
    "attributes": gettext_lazy("A category and all its required attributes"),
    "price": gettext_lazy("A price on every SKU"),
    "stock": gettext_lazy("Stock on hand"),
}


@dataclass(frozen=True)
class ListingFacts:
    title: str
    keywords: tuple[str, ...]
    image_count: int
    has_category: bool
    required_attributes: tuple[str, ...]
    attributes: dict
    sku_prices: tuple  # prices of the active SKUs
    on_hand: int


@dataclass(frozen=True)
class Completeness:
    score: int  # 0-100
    missing: list[str] = field(default_factory=list)
    missing_attributes: list[str] = field(default_factory=list)

    @property
    def is_complete(self) -> bool:
        return not self.missing


def listing_completeness(facts: ListingFacts) -> Completeness:
    """The rule, on plain inputs (a strategy; no database)."""
    missing_attributes = [name for name in facts.required_attributes
                          if not str(facts.attributes.get(name, "") or "").strip()]
    passed = {
        "images": facts.image_count >= MIN_IMAGES,
        "keyword_in_title": any(k and k in facts.title for k in facts.keywords),
        "attributes": facts.has_category and not missing_attributes,
        "price": bool(facts.sku_prices) and all(p > 0 for p in facts.sku_prices),
        "stock": facts.on_hand > 0,
    }
    missing = [str(CHECKS[key]) for key, ok in passed.items() if not ok]
    score = round(100 * sum(passed.values()) / len(passed))
    return Completeness(score=score, missing=missing, missing_attributes=missing_attributes)


def category_required_attributes(category: Category | None) -> list[str]:
    """Required attribute names of the category and its ancestors (root first)."""
    if category is None:
        return []
    ancestors = category_ancestor_paths(category.path)
    # In order, once each (DISTINCT would also compare the ORDER BY columns).
    return list(dict.fromkeys(
        CategoryAttribute.objects.filter(category__path__in=ancestors, is_required=True)
        .order_by("category__path", "position", "name").values_list("name", flat=True)))


def category_ancestor_paths(path: str) -> list[str]:
    """"/a/b/c/" → ["/a/", "/a/b/", "/a/b/c/"]."""
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]


def product_listing_facts(product: Product) -> ListingFacts:
    return ListingFacts(
        title=product.listing_title,
        keywords=tuple(product.keywords.values_list("word", flat=True)),
        image_count=product.images.count(),
        has_category=product.category_node_id is not None,
        required_attributes=tuple(category_required_attributes(product.category_node)),
        attributes=product.attributes or {},
        sku_prices=tuple(product.skus.filter(is_active=True).values_list("price", flat=True)),
        on_hand=sum(StockLevel.objects.filter(sku__product=product)
                    .values_list("on_hand", flat=True)),
    )


def product_completeness(product: Product) -> Completeness:
    return listing_completeness(product_listing_facts(product))


def products_with_listing_checks(qs: QuerySet[Product] | None = None) -> QuerySet[Product]:
    """Products annotated with one boolean per check, `listing_score` (0-100)
    and `listing_complete`: the rule of `listing_completeness` in SQL."""
    qs = Product.objects.all() if qs is None else qs
    product_table = Product._meta.db_table
    category_table = Category._meta.db_table
    attribute_table = CategoryAttribute._meta.db_table
    images = (ProductImage.objects.filter(product=OuterRef("pk")).order_by()
              .values("product").annotate(n=Count("pk")).values("n"))
    title = Coalesce(NullIf(OuterRef("title"), Value("")), OuterRef("name"))
    keyword_in_title = (Product.keywords.through.objects
                        .filter(product_id=OuterRef("pk"))
                        .annotate(at=StrIndex(title, F("keyword__word")))
                        .filter(at__gt=0))
    # Passes when the product has a category and fills every attribute the
    # category or an ancestor requires (an ancestor's path prefixes its own).
    # Table names come from the models' meta, never from input.
    # The attribute name is a column, so Django's key transforms (literal keys
    # only) cannot express the look-up. On SQLite, Django stores JSON with
    # non-ASCII escaped ("\u6750…") and SQLite's `->>`/json_extract match a
    # label against that raw text, so `->> ca.name` never finds a Chinese key;
    # json_each decodes the labels. PostgreSQL's jsonb has no such problem.
    if connection.vendor == "sqlite":
        attribute_value = (
            f"(SELECT je.value FROM json_each({product_table}.attributes) je"  # noqa: S608
            " WHERE je.key = ca.name)")
    else:
        attribute_value = f"{product_table}.attributes ->> ca.name"
    attributes_ok = RawSQL(  # noqa: S611
        f"""{product_table}.category_node_id IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM {attribute_table} ca
                JOIN {category_table} anc ON anc.id = ca.category_id
                JOIN {category_table} own ON own.id = {product_table}.category_node_id
                WHERE ca.is_required AND own.path LIKE anc.path || '%%'
                  AND COALESCE({attribute_value}, '') = '')""",  # noqa: S608
        (), output_field=BooleanField())
    bad_price = Sku.objects.filter(product=OuterRef("pk"), is_active=True, price__lte=0)
    any_sku = Sku.objects.filter(product=OuterRef("pk"), is_active=True)
    stocked = StockLevel.objects.filter(sku__product=OuterRef("pk"), on_hand__gt=0)
    qs = qs.annotate(
        image_count=Coalesce(Subquery(images, output_field=IntegerField()), Value(0)),
        check_images=ExpressionWrapper(Q(image_count__gte=MIN_IMAGES),
                                       output_field=BooleanField()),
        check_keyword_in_title=Exists(keyword_in_title),
        check_attributes=attributes_ok,
        check_price=ExpressionWrapper(Q(Exists(any_sku)) & ~Q(Exists(bad_price)),
                                      output_field=BooleanField()),
        check_stock=Exists(stocked),
    )
    passed = sum((Case(When(**{f"check_{key}": True}, then=Value(1)), default=Value(0),
                       output_field=IntegerField()) for key in CHECKS), Value(0))
    return qs.annotate(
        listing_passed=passed,
        listing_score=ExpressionWrapper(F("listing_passed") * 100 / len(CHECKS),
                                        output_field=IntegerField()),
        listing_complete=ExpressionWrapper(Q(listing_passed=len(CHECKS)),
                                           output_field=BooleanField()),
    )


# --- writes ------------------------------------------------------------------------------

def _category_path(parent: Category | None, code: str) -> str:
    return f"{parent.path if parent else '/'}{code}/"


@transaction.atomic
def category_save(*, category: Category, actor=None) -> Category:
    """Create, rename or move a category; the paths of its subtree and the
    category name of its products follow."""
    old_path = (Category.objects.filter(pk=category.pk).values_list("path", flat=True).first()
                if category.pk else None)
    parent = category.parent
    if old_path and parent is not None and parent.path.startswith(old_path):
        raise DomainError(_("A category cannot sit under itself or its own subcategory."),
                          code=InventoryErrorCode.CATEGORY_CYCLE, status_code=400,
                          fields={"parent": [_("Choose a category outside this one.")]})
    new_path = _category_path(parent, category.code)
    category.path = new_path
    category.save()
    if old_path and old_path != new_path:
        for child in (Category.objects.select_for_update().filter(path__startswith=old_path)
                      .exclude(pk=category.pk).order_by("pk")):
            child.path = new_path + child.path[len(old_path):]
            child.save(update_fields=["path"])
    _products_sync_category_name(root_path=new_path)
    audit_record(actor=actor, action="category.save", target=category,
                 data={"path": new_path})
    return category


def _root_name(path: str) -> str:
    root_code = path.strip("/").split("/")[0]
    return Category.objects.filter(code=root_code).values_list("name", flat=True).first() or ""


def _products_sync_category_name(*, root_path: str) -> None:
    for category in Category.objects.filter(path__startswith=root_path):
        Product.objects.filter(category_node=category).update(category=_root_name(category.path))


def product_category_name(category: Category | None) -> str:
    return _root_name(category.path) if category else ""
