"""Listings: the category tree with inherited required attributes, keywords,
images, and the completeness score with its missing items, in Python and in
SQL (admin filter and staff API filter)."""

from decimal import Decimal

import pytest
from django.utils import translation

from core.errors import DomainError
from inventory.listings import (
    ListingFacts,
    category_required_attributes,
    category_save,
    listing_completeness,
    product_completeness,
    products_with_listing_checks,
)
from inventory.models import Category, Keyword, Product
from inventory.tests.factories import (
    ProductFactory,
    ProductImageFactory,
    SkuFactory,
    category,
    stocked_sku,
)

pytestmark = pytest.mark.django_db


def facts(**overrides) -> ListingFacts:
    base = {"title": "纯棉圆领T恤 新款", "keywords": ("纯棉",), "image_count": 6,
            "has_category": True, "required_attributes": ("材质",),
            "attributes": {"材质": "棉"}, "sku_prices": (Decimal("79.00"),), "on_hand": 3}
    base.update(overrides)
    return ListingFacts(**base)


@pytest.mark.parametrize("overrides, missing", [
    ({}, []),
    ({"image_count": 5}, ["images"]),
    ({"keywords": ("百搭",)}, ["keyword_in_title"]),
    ({"keywords": ()}, ["keyword_in_title"]),
    ({"attributes": {"材质": " "}}, ["attributes"]),
    ({"has_category": False, "required_attributes": ()}, ["attributes"]),
    ({"sku_prices": (Decimal("0"), Decimal("5"))}, ["price"]),
    ({"sku_prices": ()}, ["price"]),
    ({"on_hand": 0}, ["stock"]),
    ({"image_count": 0, "on_hand": 0, "keywords": ()}, ["images", "keyword_in_title", "stock"]),
])
def test_completeness_rule(overrides, missing):
    from inventory.listings import CHECKS

    with translation.override("en"):
        result = listing_completeness(facts(**overrides))
        assert result.missing == [str(CHECKS[key]) for key in missing]
    assert result.score == 100 - 20 * len(missing)
    assert result.is_complete == (not missing)


def complete_product(warehouse, code="P-OK") -> Product:
    apparel = Category.objects.filter(code="apparel").first() or category(
        "apparel", "服饰", required=("材质",))
    tops = Category.objects.filter(code="tops").first() or category(
        "tops", "上衣", apparel, required=("版型",))
    product = ProductFactory(code=code, name="纯棉圆领T恤", category_node=tops,
                             attributes={"材质": "棉", "版型": "宽松"})
    product.keywords.add(Keyword.objects.get_or_create(word="纯棉")[0])
    for _ in range(6):
        ProductImageFactory(product=product)
    sku = SkuFactory(product=product)
    from inventory.services import stock_receive

    stock_receive(sku=sku, location=warehouse, quantity=2)
    return product


def test_required_attributes_are_inherited_down_the_tree():
    root = category("apparel", "服饰", required=("材质", "适用季节"))
    child = category("tops", "上衣", root, required=("版型",))
    grandchild = category("tshirts", "T恤", child)
    assert category_required_attributes(grandchild) == ["材质", "适用季节", "版型"]
    assert grandchild.path == "/apparel/tops/tshirts/"
    # Moving a subtree moves its paths; a cycle is refused.
    other = category("basics", "基础款")
    child.parent = other
    category_save(category=child)
    grandchild.refresh_from_db()
    assert grandchild.path == "/basics/tops/tshirts/"
    other.parent = grandchild
    with pytest.raises(DomainError):
        category_save(category=other)


def test_sql_checks_agree_with_the_rule(warehouse):
    ok = complete_product(warehouse)
    few_images = complete_product(warehouse, code="P-IMG")
    few_images.images.first().delete()
    no_keyword = complete_product(warehouse, code="P-KW")
    no_keyword.title = "圆领T恤"
    no_keyword.name = "圆领T恤"
    no_keyword.save()
    no_attr = complete_product(warehouse, code="P-ATTR")
    no_attr.attributes = {"材质": "棉"}  # 版型 (required by the subcategory) missing
    no_attr.save()
    no_stock = complete_product(warehouse, code="P-STOCK")
    from inventory.models import StockLevel

    level = StockLevel.objects.get(sku__product=no_stock)
    from inventory.enums import MovementKind
    from inventory.services import stock_state_change

    stock_state_change(sku=level.sku, location=warehouse, kind=MovementKind.QUARANTINE,
                       quantity=2, reason="破损")
    bare = ProductFactory(code="P-BARE")

    rows = {p.code: p for p in products_with_listing_checks()}
    for product in Product.objects.all():
        result = product_completeness(product)
        row = rows[product.code]
        assert row.listing_score == result.score, product.code
        assert row.listing_complete == result.is_complete, product.code
    assert rows["P-OK"].listing_complete
    assert not rows["P-IMG"].check_images
    assert not rows["P-KW"].check_keyword_in_title
    assert not rows["P-ATTR"].check_attributes
    assert product_completeness(no_attr).missing_attributes == ["版型"]
    assert not rows["P-STOCK"].check_stock
    assert rows["P-BARE"].listing_score == 0
    assert ok.listing_title == "纯棉圆领T恤"
    _ = bare


def test_incomplete_filter_in_admin_and_api(warehouse, store_client, ecommerce_client,
                                            finance_client):
    complete_product(warehouse)
    ProductFactory(code="P-BARE", name="空白商品")
    page = store_client.get("/admin/inventory/product/?listing=incomplete")
    html = page.content.decode()
    assert page.status_code == 200 and "P-BARE" in html and "P-OK" not in html
    html = store_client.get("/admin/inventory/product/?listing=complete").content.decode()
    assert "P-OK" in html and "P-BARE" not in html

    api = "/api/v1/staff/inventory/listings/"
    data = ecommerce_client.get(api, {"complete": "false"}).json()
    assert [row["code"] for row in data["results"]] == ["P-BARE"]
    assert data["results"][0]["score"] == 0
    detail = ecommerce_client.get(f"{api}P-OK/").json()
    assert detail["complete"] is True and detail["missing"] == []
    assert detail["checks"] == {"images": True, "keyword_in_title": True, "attributes": True,
                                "price": True, "stock": True}
    assert ecommerce_client.get(api, {"complete": "maybe"}).status_code == 400
    assert ecommerce_client.get(api, {"category": "tops"}).json()["count"] == 1
    assert finance_client.get(api).status_code == 403


def test_product_page_shows_score_and_missing_items(warehouse, store_client):
    product = complete_product(warehouse)
    product.images.all().delete()
    html = store_client.get(f"/admin/inventory/product/{product.pk}/change/").content.decode()
    assert "80%" in html


def test_category_admin_refuses_a_cycle(store_client):
    root = category("apparel", "服饰")
    child = category("tops", "上衣", root)
    response = store_client.post(f"/admin/inventory/category/{root.pk}/change/", {
        "parent": child.pk, "code": "apparel", "name": "服饰", "position": 0,
        "attributes-TOTAL_FORMS": 0, "attributes-INITIAL_FORMS": 0})
    assert response.status_code == 200  # the form again, with the error
    root.refresh_from_db()
    assert root.parent is None and root.path == "/apparel/"


def test_stocked_sku_helper_still_works(warehouse):
    assert stocked_sku(location=warehouse, quantity=1).levels.get().on_hand == 1


def test_check_labels_follow_the_active_language():
    from inventory.listings import CHECKS

    with translation.override("en"):
        assert str(CHECKS["images"]) == "At least 6 images"
    with translation.override("zh-hans"):
        assert str(CHECKS["images"]) == "至少 6 张图片"


def test_an_attribute_required_twice_up_the_tree_is_listed_once():
    root = category("shoes", "鞋", required=("材质",))
    child = category("boots", "靴", root, required=("材质", "筒高"))
    assert category_required_attributes(child) == ["材质", "筒高"]
