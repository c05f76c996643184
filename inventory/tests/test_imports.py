"""Import/export of products, SKUs and opening stock through the admin
(CSV/XLSX): a preview with row-level errors, then an all-or-nothing import;
opening stock goes through the stock service, so the ledger stays right."""

from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from core.models import AuditEvent
from inventory.enums import MovementKind
from inventory.models import Keyword, Product, Sku, StockLevel, StockMovement
from inventory.selectors import stock_ledger_drift
from inventory.tests.factories import ProductFactory, category, stocked_sku

pytestmark = pytest.mark.django_db

CSV, XLSX = "0", "1"  # positions in the admins' import formats


def csv_file(text: str, name: str = "data.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def xlsx_file(rows, name: str = "data.xlsx") -> SimpleUploadedFile:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = BytesIO()
    book.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def preview(client, model: str, upload, fmt: str = CSV):
    return client.post(f"/admin/inventory/{model}/import/",
                       {"format": fmt, "import_file": upload, "resource": "0"})


def confirm(client, model: str, response):
    form = response.context["confirm_form"]
    return client.post(f"/admin/inventory/{model}/process_import/",
                       {name: form.initial.get(name, "") for name in form.fields})


def snapshot() -> tuple:
    return (Product.objects.count(), Sku.objects.count(), Keyword.objects.count(),
            StockLevel.objects.count(), StockMovement.objects.count(),
            list(Product.objects.order_by("code").values_list("code", "name", "price")))


def test_products_preview_then_import(store_client):
    category("apparel", "服饰", required=("材质",))
    ProductFactory(code="OLD", name="旧名字")
    text = ("code,name,title,category,price,description,keywords,attributes,video_url,"
            "is_active\n"
            "NEW1,纯棉T恤,纯棉T恤 新款,apparel,79.00,好穿,纯棉;新款,材质=棉,,1\n"
            "OLD,新名字,,,99.50,,,,,1\n")
    response = preview(store_client, "product", csv_file(text))
    assert response.status_code == 200
    result = response.context["result"]
    assert not result.has_errors() and not result.has_validation_errors()
    assert Product.objects.filter(code="NEW1").count() == 0  # a preview writes nothing
    done = confirm(store_client, "product", response)
    assert done.status_code == 302
    new = Product.objects.get(code="NEW1")
    assert new.category_node.code == "apparel" and new.category == "服饰"
    assert sorted(new.keywords.values_list("word", flat=True)) == ["新款", "纯棉"]
    assert new.attributes == {"材质": "棉"}
    assert Product.objects.get(code="OLD").name == "新名字"
    assert AuditEvent.objects.filter(action="product.import").exists()


def test_a_bad_product_file_changes_nothing(store_client):
    category("apparel", "服饰")
    ProductFactory(code="OLD", name="旧名字")
    before = snapshot()
    text = ("code,name,category,price,keywords,attributes\n"
            "GOOD,好商品,apparel,10.00,新词,材质=棉\n"
            "BAD1,坏价格,apparel,abc,,\n"
            "BAD2,未知分类,nope,10.00,,\n"
            "BAD3,坏属性,apparel,10.00,,材质棉\n"
            "OLD,改了名字,apparel,-5,,\n")
    response = preview(store_client, "product", csv_file(text))
    assert response.status_code == 200
    result = response.context["result"]
    assert result.has_validation_errors()
    bad_rows = {row.number for row in result.invalid_rows}
    assert bad_rows == {2, 3, 4, 5}
    assert "confirm_form" not in response.context or response.context["confirm_form"] is None
    html = response.content.decode()
    assert "abc" in html and "nope" in html
    assert snapshot() == before


def test_rows_that_turn_bad_after_the_preview_roll_back_everything(store_client):
    """The import re-checks every row and rolls back on any failure."""
    from tablib import Dataset

    from inventory.imports import SkuResource

    product = ProductFactory(code="P1")
    before = snapshot()
    data = Dataset(headers=["code", "product", "name", "price", "unit_cost", "weight_grams"])
    data.append(["S-OK", "P1", "好", "10.00", "5.00", "100"])
    data.append(["S-BAD", "P-GONE", "坏", "10.00", "5.00", "1.5"])
    result = SkuResource().import_data(data, dry_run=False)
    assert result.has_validation_errors()
    assert snapshot() == before
    _ = product


def test_skus_from_xlsx(store_client):
    ProductFactory(code="P1")
    upload = xlsx_file([["code", "product", "name", "attributes", "price", "unit_cost",
                         "weight_grams", "is_active"],
                        ["S1", "P1", "T恤 白/M", "颜色=白;尺码=M", 79, 35.5, 220, 1]])
    response = preview(store_client, "sku", upload, XLSX)
    assert not response.context["result"].has_validation_errors()
    confirm(store_client, "sku", response)
    sku = Sku.objects.get(code="S1")
    assert sku.attributes == {"颜色": "白", "尺码": "M"} and str(sku.unit_cost) == "35.50"


def test_opening_stock_goes_through_the_ledger(store_client, warehouse):
    sku = stocked_sku(location=warehouse, quantity=5, code="HAS-STOCK")
    ProductFactory(code="P2")
    fresh = Sku.objects.create(product=Product.objects.get(code="P2"), code="FRESH",
                               name="新品", price="10.00")
    # A bad file: unknown codes, a fraction, a SKU-location with history, a repeat.
    before = snapshot()
    text = ("sku,location,quantity\nFRESH,WH1,10\nNOPE,WH1,3\nFRESH,NOWHERE,3\n"
            "FRESH,WH1,2.5\nHAS-STOCK,WH1,4\n")
    response = preview(store_client, "openingstock", csv_file(text))
    result = response.context["result"]
    assert {row.number for row in result.invalid_rows} == {2, 3, 4, 5}
    assert snapshot() == before

    response = preview(store_client, "openingstock",
                       csv_file("sku,location,quantity\nFRESH,WH1,10\n"))
    assert not response.context["result"].has_validation_errors()
    assert snapshot() == before
    assert confirm(store_client, "openingstock", response).status_code == 302
    level = StockLevel.objects.get(sku=fresh, location=warehouse)
    assert level.on_hand == 10
    movement = StockMovement.objects.get(sku=fresh)
    assert movement.kind == MovementKind.OPENING and movement.on_hand_delta == 10
    assert stock_ledger_drift() == []
    # The same file again is refused: opening stock only once.
    again = preview(store_client, "openingstock",
                    csv_file("sku,location,quantity\nFRESH,WH1,10\n"))
    assert again.context["result"].has_validation_errors()
    _ = sku


def test_import_needs_the_owning_department(ecommerce_client, store_client):
    assert ecommerce_client.get("/admin/inventory/product/import/").status_code == 403
    assert ecommerce_client.post("/admin/inventory/openingstock/import/", {
        "format": CSV, "import_file": csv_file("sku,location,quantity\n")}).status_code == 403
    assert store_client.get("/admin/inventory/product/import/").status_code == 200
    response = preview(store_client, "product", csv_file("not,a\x00,csv\n\x00\x00"), CSV)
    assert response.status_code == 200  # shown as errors, not a 500


def test_export_reads_back(store_client, warehouse):
    stocked_sku(location=warehouse, quantity=7, code="EXP")
    response = store_client.post("/admin/inventory/openingstock/export/",
                                 {"format": XLSX, "resource": "0",
                                  "openingstockresource_sku": True,
                                  "openingstockresource_location": True,
                                  "openingstockresource_quantity": True})
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("sku", "location", "quantity") and rows[1] == ("EXP", "WH1", 7)
