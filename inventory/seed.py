"""Demo catalogue and opening stock (`manage.py seed_demo`).

Deterministic (a fixed random seed, static data) and idempotent: products,
SKUs and locations are matched by code, and opening stock is received only
for SKU-locations that have no stock level yet, through `stock_receive`, so
the ledger equals the book. `sales.seed` runs first (INSTALLED_APPS order) and
calls `seed()` here for the goods its orders need; the second call is a no-op."""

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from inventory.enums import LocationKind, MovementKind
from inventory.listings import category_save, product_category_name
from inventory.models import (
    Category,
    CategoryAttribute,
    Keyword,
    Location,
    Product,
    ProductImage,
    Sku,
    StockLevel,
    StockMovement,
)
from inventory.services import stock_receive

RANDOM_SEED = 20250601
OPENING_STOCK_REASON = "期初库存（演示数据）"
# Opening stock is dated this many days before the day the demo is loaded.
OPENING_DAYS_AGO = 370
MAIN_WAREHOUSE = "WH-SH01"


@dataclass(frozen=True)
class DemoLocation:
    code: str
    name: str
    kind: str
    district: str
    address: str
    lat: str
    lng: str
    is_main_warehouse: bool = False


LOCATIONS = [
    DemoLocation(MAIN_WAREHOUSE, "上海青浦中心仓", LocationKind.WAREHOUSE, "青浦区",
                 "上海市青浦区华新镇华志路 1688 号", "31.238215", "121.221846",
                 is_main_warehouse=True),
    DemoLocation("ST-SH01", "融通·南京西路店", LocationKind.STORE, "静安区",
                 "上海市静安区南京西路 1618 号 1 层 108 室", "31.224103", "121.446922"),
    DemoLocation("ST-SH02", "融通·徐家汇店", LocationKind.STORE, "徐汇区",
                 "上海市徐汇区虹桥路 1 号 B1 层 B112 室", "31.194586", "121.437431"),
    DemoLocation("ST-SH03", "融通·五角场店", LocationKind.STORE, "杨浦区",
                 "上海市杨浦区淞沪路 8 号 2 层 215 室", "31.300687", "121.514187"),
    DemoLocation("ST-SH04", "融通·八佰伴店", LocationKind.STORE, "浦东新区",
                 "上海市浦东新区张杨路 501 号 3 层 302 室", "31.228561", "121.514712"),
]
STORE_CODES = [loc.code for loc in LOCATIONS if loc.kind == LocationKind.STORE]


@dataclass(frozen=True)
class DemoProduct:
    """`variants`: (label, price difference); `demand`: relative popularity."""

    code: str
    name: str
    category: str
    price: str
    colours: tuple[str, ...]
    variant_name: str
    variants: tuple[tuple[str, int], ...]
    weight_grams: int
    demand: int
    description: str = ""
    colour_name: str = "颜色"


def _sizes(*labels: str) -> tuple[tuple[str, int], ...]:
    return tuple((label, 0) for label in labels)


APPAREL, HOME, DIGITAL = "服饰", "家居", "数码配件"
FOOD, BEAUTY, SPORT = "食品", "美妆个护", "运动户外"
LETTER_SIZES = _sizes("S", "M", "L", "XL")
CATALOGUE = [
    DemoProduct("RT-TS01", "纯棉圆领短袖T恤", APPAREL, "79.00", ("白色", "黑色", "藏青", "灰色"),
                "尺码", _sizes("S", "M", "L", "XL", "XXL"), 220, 10,
                "新疆长绒棉，220 克重，不易变形。"),
    DemoProduct("RT-PL01", "珠地棉POLO衫", APPAREL, "129.00", ("白色", "藏青", "酒红"),
                "尺码", _sizes("M", "L", "XL", "XXL"), 260, 5),
    DemoProduct("RT-HD01", "加绒连帽卫衣", APPAREL, "199.00", ("黑色", "灰色", "燕麦色"),
                "尺码", LETTER_SIZES, 650, 6),
    DemoProduct("RT-JN01", "直筒牛仔裤", APPAREL, "229.00", ("浅蓝", "深蓝"),
                "尺码", _sizes("28", "29", "30", "31", "32", "34"), 700, 6),
    DemoProduct("RT-DR01", "碎花雪纺连衣裙", APPAREL, "259.00", ("米白", "雾霾蓝"),
                "尺码", _sizes("S", "M", "L"), 300, 4),
    DemoProduct("RT-DJ01", "轻薄羽绒服", APPAREL, "499.00", ("黑色", "米白", "卡其"),
                "尺码", _sizes("M", "L", "XL"), 450, 4, "90% 白鸭绒，可收纳成小包。"),
    DemoProduct("RT-SK01", "精梳棉运动袜（5双装）", APPAREL, "39.00", ("黑色", "白色"),
                "尺码", _sizes("均码"), 150, 8),
    DemoProduct("RT-SN01", "缓震跑步鞋", APPAREL, "399.00", ("黑白", "灰蓝"),
                "尺码", _sizes("39", "40", "41", "42", "43", "44"), 900, 5),
    DemoProduct("RT-CV01", "经典帆布鞋", APPAREL, "159.00", ("白色", "黑色"),
                "尺码", _sizes("36", "37", "38", "39", "40", "41", "42"), 800, 5),
    DemoProduct("RT-SH01", "牛津纺长袖衬衫", APPAREL, "169.00", ("白色", "浅蓝", "粉色"),
                "尺码", LETTER_SIZES, 320, 4),
    DemoProduct("RT-WP01", "冰丝防晒阔腿裤", APPAREL, "139.00", ("黑色", "杏色"),
                "尺码", LETTER_SIZES, 280, 4),
    DemoProduct("RT-CT01", "羊毛混纺大衣", APPAREL, "899.00", ("驼色", "黑色"),
                "尺码", _sizes("S", "M", "L"), 1500, 2),
    DemoProduct("RT-BG01", "帆布托特包", APPAREL, "89.00", ("米白", "黑色", "军绿"),
                "规格", _sizes("均码"), 350, 3),
    DemoProduct("RT-CP01", "刺绣棒球帽", APPAREL, "69.00", ("黑色", "白色", "卡其"),
                "规格", _sizes("均码"), 120, 3),
    DemoProduct("RT-BS01", "全棉四件套", HOME, "399.00", ("雾蓝", "奶白", "燕麦"),
                "规格", (("1.5m床", 0), ("1.8m床", 60)), 2400, 4, "60 支长绒棉，A 类母婴级。"),
    DemoProduct("RT-TW01", "长绒棉毛巾（2条装）", HOME, "59.00", ("白色", "灰色", "粉色"),
                "规格", _sizes("34×76cm"), 260, 5),
    DemoProduct("RT-PW01", "记忆棉枕头", HOME, "159.00", ("白色",),
                "款式", (("标准款", 0), ("护颈款", 40)), 1300, 3),
    DemoProduct("RT-BL01", "珊瑚绒毯子", HOME, "129.00", ("灰色", "粉色", "蓝色"),
                "规格", (("150×200cm", 0), ("200×230cm", 50)), 1600, 3),
    DemoProduct("RT-MG01", "陶瓷马克杯", HOME, "49.00", ("白色", "墨绿", "雾粉"),
                "容量", _sizes("350ml"), 380, 3),
    DemoProduct("RT-TH01", "316不锈钢保温杯", HOME, "129.00", ("黑色", "白色", "蓝色"),
                "容量", (("350ml", 0), ("500ml", 20)), 420, 5),
    DemoProduct("RT-ST01", "衣物收纳箱（3只装）", HOME, "99.00", ("透明", "灰色"),
                "规格", (("中号", 0), ("大号", 30)), 2100, 3),
    DemoProduct("RT-PB01", "20000mAh充电宝", DIGITAL, "149.00", ("黑色", "白色"),
                "版本", (("标准版", 0), ("22.5W快充版", 40)), 420, 5),
    DemoProduct("RT-CB01", "Type-C快充数据线", DIGITAL, "29.00", ("白色", "黑色"),
                "长度", (("1m", 0), ("2m", 10)), 60, 8),
    DemoProduct("RT-EP01", "主动降噪蓝牙耳机", DIGITAL, "299.00", ("黑色", "白色"),
                "版本", _sizes("标准版"), 200, 5),
    DemoProduct("RT-PC01", "磨砂手机壳", DIGITAL, "39.00", ("透明", "黑色", "蓝色"),
                "适用机型", _sizes("iPhone 15", "iPhone 15 Pro", "华为 Mate 60", "小米 14"),
                50, 6),
    DemoProduct("RT-CH01", "65W氮化镓充电器", DIGITAL, "119.00", ("白色",),
                "版本", (("单口", 0), ("三口", 30)), 150, 4),
    DemoProduct("RT-SP01", "便携蓝牙音箱", DIGITAL, "199.00", ("黑色", "蓝色", "红色"),
                "版本", _sizes("标准版"), 540, 2),
    DemoProduct("RT-MS01", "无线静音鼠标", DIGITAL, "79.00", ("黑色", "白色", "粉色"),
                "版本", _sizes("标准版"), 110, 3),
    DemoProduct("RT-NT01", "每日坚果礼盒", FOOD, "129.00", (),
                "规格", (("750g（30袋）", 0), ("1.5kg（60袋）", 110)), 1000, 5),
    DemoProduct("RT-TE01", "明前西湖龙井", FOOD, "268.00", (),
                "规格", (("100g", 0), ("250g", 360)), 300, 2),
    DemoProduct("RT-CF01", "挂耳咖啡", FOOD, "69.00", (),
                "规格", (("10包", 0), ("30包", 110)), 200, 4),
    DemoProduct("RT-HN01", "农家土蜂蜜", FOOD, "88.00", (),
                "规格", (("500g", 0), ("1kg", 70)), 700, 2),
    DemoProduct("RT-SC01", "氨基酸洁面乳", BEAUTY, "69.00", (),
                "规格", (("100g", 0), ("150g", 20)), 180, 4),
    DemoProduct("RT-SS01", "清爽防晒霜SPF50+", BEAUTY, "119.00", (),
                "规格", (("50ml", 0), ("100ml", 70)), 120, 4),
    DemoProduct("RT-LP01", "丝绒哑光口红", BEAUTY, "159.00", ("正红", "豆沙", "枫叶红", "奶茶色"),
                "规格", _sizes("3.5g"), 40, 4),
    DemoProduct("RT-HC01", "无硅油洗发水", BEAUTY, "79.00", ("去屑", "控油", "修护"),
                "规格", (("500ml", 0), ("750ml", 20)), 800, 4, colour_name="功效"),
    DemoProduct("RT-YM01", "加厚瑜伽垫", SPORT, "99.00", ("紫色", "蓝色", "粉色"),
                "厚度", (("6mm", 0), ("10mm", 30)), 1200, 3),
    DemoProduct("RT-SB01", "Tritan运动水壶", SPORT, "59.00", ("黑色", "蓝色"),
                "容量", (("600ml", 0), ("1L", 20)), 230, 3),
    DemoProduct("RT-LG01", "高腰瑜伽裤", SPORT, "149.00", ("黑色", "灰色", "紫色"),
                "尺码", LETTER_SIZES, 250, 5),
    DemoProduct("RT-BP01", "通勤双肩背包", SPORT, "199.00", ("黑色", "灰色"),
                "容量", (("20L", 0), ("30L", 40)), 900, 3),
]


@dataclass(frozen=True)
class DemoSku:
    code: str
    product_code: str
    name: str
    attributes: dict
    price: Decimal
    weight_grams: int
    demand: int


def catalogue_skus() -> list[DemoSku]:
    """Every demo SKU, in a fixed order (colour × variant of each product)."""
    skus = []
    for product in CATALOGUE:
        colours = product.colours or ("",)
        for ci, colour in enumerate(colours, start=1):
            for vi, (label, extra) in enumerate(product.variants, start=1):
                attributes = {product.colour_name: colour} if colour else {}
                attributes[product.variant_name] = label
                suffix = "/".join(part for part in (colour, label) if part)
                skus.append(DemoSku(
                    code=f"{product.code}-C{ci}V{vi}", product_code=product.code,
                    name=f"{product.name} {suffix}", attributes=attributes,
                    price=Decimal(product.price) + extra, weight_grams=product.weight_grams,
                    demand=product.demand))
    return skus


def opening_stock_plan() -> list[tuple[str, str, int]]:
    """(sku code, location code, quantity): the warehouse holds nearly every
    SKU, each store carries about two thirds of the range."""
    rng = random.Random(RANDOM_SEED)
    plan = []
    for sku in catalogue_skus():
        if rng.random() > 0.03:  # a few SKUs are out of stock at the warehouse
            plan.append((sku.code, MAIN_WAREHOUSE, rng.randint(40, 90) * sku.demand // 3 + 20))
        for store in STORE_CODES:
            if rng.random() < 0.65:
                plan.append((sku.code, store, rng.randint(3, 15)))
    return plan


def _locations() -> dict[str, Location]:
    out = {}
    for demo in LOCATIONS:
        location, _created = Location.objects.get_or_create(code=demo.code, defaults={
            "name": demo.name, "kind": demo.kind, "is_main_warehouse": demo.is_main_warehouse,
            "province": "上海市", "city": "上海市", "district": demo.district,
            "address": demo.address, "lat": Decimal(demo.lat), "lng": Decimal(demo.lng)})
        out[demo.code] = location
    return out


def _catalogue() -> tuple[int, dict[str, Sku]]:
    existing = set(Product.objects.filter(code__in=[p.code for p in CATALOGUE])
                   .values_list("code", flat=True))
    new_products = [Product(code=p.code, name=p.name, category=p.category,
                            description=p.description, price=Decimal(p.price))
                    for p in CATALOGUE if p.code not in existing]
    for product in new_products:  # save() keeps simple_history's records
        product.save()
    products = {p.code: p for p in Product.objects.filter(code__in=[p.code for p in CATALOGUE])}
    demo_skus = catalogue_skus()
    existing = set(Sku.objects.filter(code__in=[s.code for s in demo_skus])
                   .values_list("code", flat=True))
    created = 0
    for demo in demo_skus:
        if demo.code in existing:
            continue
        Sku.objects.create(product=products[demo.product_code], code=demo.code, name=demo.name,
                           attributes=demo.attributes, price=demo.price,
                           weight_grams=demo.weight_grams)
        created += 1
    return created, {s.code: s for s in Sku.objects.filter(code__in=[s.code for s in demo_skus])}


def _opening_stock(*, locations: dict[str, Location], skus: dict[str, Sku]) -> int:
    stocked = set(StockLevel.objects.filter(sku__in=skus.values(),
                                            location__in=locations.values())
                  .values_list("sku__code", "location__code"))
    last_movement = StockMovement.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    received = 0
    for sku_code, location_code, quantity in opening_stock_plan():
        if (sku_code, location_code) in stocked:
            continue
        stock_receive(sku=skus[sku_code], location=locations[location_code], quantity=quantity,
                      reason=OPENING_STOCK_REASON)
        received += 1
    if received:
        opening_at = timezone.make_aware(datetime.combine(
            timezone.localdate() - timedelta(days=OPENING_DAYS_AGO), time(9, 0)))
        StockMovement.objects.filter(pk__gt=last_movement, reason=OPENING_STOCK_REASON) \
            .update(created_at=opening_at)
    return received


# --- listings (002 二(三)1-2) ----------------------------------------------------------

@dataclass(frozen=True)
class DemoCategory:
    code: str
    name: str
    parent: str | None
    required: tuple[str, ...] = ()


CATEGORIES = [
    DemoCategory("apparel", APPAREL, None, ("材质", "适用季节")),
    DemoCategory("apparel-tops", "上衣", "apparel", ("版型",)),
    DemoCategory("apparel-bottoms", "裤装", "apparel", ("版型",)),
    DemoCategory("apparel-dresses", "裙装", "apparel"),
    DemoCategory("apparel-outerwear", "外套", "apparel", ("填充物",)),
    DemoCategory("apparel-shoes", "鞋履", "apparel", ("鞋底材质",)),
    DemoCategory("apparel-accessories", "服饰配件", "apparel"),
    DemoCategory("home", HOME, None, ("材质",)),
    DemoCategory("home-bedding", "床上用品", "home", ("规格尺寸",)),
    DemoCategory("home-kitchen", "杯壶餐厨", "home", ("容量",)),
    DemoCategory("home-storage", "收纳整理", "home"),
    DemoCategory("digital", DIGITAL, None, ("品牌", "接口类型")),
    DemoCategory("digital-power", "充电设备", "digital", ("输出功率",)),
    DemoCategory("digital-audio", "影音", "digital"),
    DemoCategory("digital-accessories", "手机配件", "digital"),
    DemoCategory("food", FOOD, None, ("产地", "保质期")),
    DemoCategory("beauty", BEAUTY, None, ("净含量", "适用肤质")),
    DemoCategory("sport", SPORT, None, ("材质",)),
]

PRODUCT_CATEGORY = {
    "RT-TS01": "apparel-tops", "RT-PL01": "apparel-tops", "RT-HD01": "apparel-tops",
    "RT-SH01": "apparel-tops", "RT-JN01": "apparel-bottoms", "RT-WP01": "apparel-bottoms",
    "RT-DR01": "apparel-dresses", "RT-DJ01": "apparel-outerwear", "RT-CT01": "apparel-outerwear",
    "RT-SN01": "apparel-shoes", "RT-CV01": "apparel-shoes", "RT-SK01": "apparel-accessories",
    "RT-BG01": "apparel-accessories", "RT-CP01": "apparel-accessories",
    "RT-BS01": "home-bedding", "RT-TW01": "home-bedding", "RT-PW01": "home-bedding",
    "RT-BL01": "home-bedding", "RT-MG01": "home-kitchen", "RT-TH01": "home-kitchen",
    "RT-ST01": "home-storage", "RT-PB01": "digital-power", "RT-CH01": "digital-power",
    "RT-CB01": "digital-accessories", "RT-PC01": "digital-accessories",
    "RT-EP01": "digital-audio", "RT-SP01": "digital-audio", "RT-MS01": "digital-accessories",
}

ATTRIBUTE_VALUES = {
    "材质": ("纯棉", "聚酯纤维", "羊毛混纺", "陶瓷", "316不锈钢", "TPE", "PP塑料", "尼龙"),
    "适用季节": ("四季", "春秋", "夏季", "冬季"),
    "版型": ("宽松", "修身", "直筒", "常规"),
    "填充物": ("白鸭绒", "聚酯纤维棉"),
    "鞋底材质": ("橡胶", "EVA", "硫化橡胶"),
    "规格尺寸": ("1.5m床", "1.8m床", "标准"),
    "容量": ("350ml", "500ml"),
    "品牌": ("融通优选",),
    "接口类型": ("Type-C", "USB-A/Type-C", "蓝牙5.3"),
    "输出功率": ("22.5W", "65W"),
    "产地": ("浙江杭州", "云南", "新疆", "安徽黄山"),
    "保质期": ("12个月", "18个月", "24个月"),
    "净含量": ("100g", "50ml", "500ml", "3.5g"),
    "适用肤质": ("所有肤质", "油性肤质", "干性肤质"),
}

KEYWORDS = {
    APPAREL: ("纯棉", "百搭", "新款", "透气", "宽松"),
    HOME: ("家用", "简约", "加厚", "北欧风"),
    DIGITAL: ("快充", "便携", "无线", "降噪"),
    FOOD: ("礼盒", "健康零食", "新茶", "原产地"),
    BEAUTY: ("温和", "保湿", "清爽", "持久"),
    SPORT: ("运动", "健身", "户外", "轻便"),
}
IMAGE_HOST = "https://img.rongtong.example/products"
VIDEO_HOST = "https://video.rongtong.example/products"


def _categories() -> dict[str, Category]:
    out: dict[str, Category] = {}
    for demo in CATEGORIES:
        category = Category.objects.filter(code=demo.code).first()
        if category is None:
            category = category_save(category=Category(
                code=demo.code, name=demo.name, parent=out.get(demo.parent)))
            CategoryAttribute.objects.bulk_create(
                CategoryAttribute(category=category, name=name, position=i)
                for i, name in enumerate(demo.required))
        out[demo.code] = category
    return out


def _listings() -> int:
    """Listing data for demo products that have no category yet: most are
    complete; a deterministic few lack images, a keyword in the title or an
    attribute, so the incomplete-listing filter has something to show."""
    categories = _categories()
    root_of = {p.code: p.category for p in CATALOGUE}
    code_of_root = {c.name: c.code for c in CATEGORIES if c.parent is None}
    rng = random.Random(RANDOM_SEED + 1)
    todo = list(Product.objects.filter(code__in=[p.code for p in CATALOGUE],
                                       category_node__isnull=True).order_by("code"))
    for index, product in enumerate(todo):
        category = categories[PRODUCT_CATEGORY.get(product.code, code_of_root[
            root_of[product.code]])]
        words = list(KEYWORDS[root_of[product.code]])
        chosen = rng.sample(words, 3)
        gap = index % 7  # 0: too few images, 1: keyword not in title, 2: missing attribute
        title = f"{chosen[0]}{product.name}" if gap != 1 else product.name
        required = []
        node = category
        while node is not None:
            required += list(node.attributes.values_list("name", flat=True))
            node = node.parent
        attributes = {name: rng.choice(ATTRIBUTE_VALUES.get(name, ("标准",)))
                      for name in required}
        if gap == 2 and attributes:
            attributes.pop(sorted(attributes)[0])
        product.category_node = category
        product.category = product_category_name(category)
        product.title = f"{title} {chosen[1]}{chosen[2]}"[:200]
        product.attributes = attributes
        product.video_url = f"{VIDEO_HOST}/{product.code}.mp4" if index % 3 == 0 else ""
        if not product.description:
            product.description = f"{product.name}，{chosen[1]}{chosen[2]}。"
        product.save()
        product.keywords.set([Keyword.objects.get_or_create(word=w)[0] for w in chosen])
        images = 3 if gap == 0 else 6 + index % 3
        ProductImage.objects.bulk_create(
            ProductImage(product=product, url=f"{IMAGE_HOST}/{product.code}/{n}.jpg",
                         position=n, alt_text=f"{product.name} {n}")
            for n in range(1, images + 1))
    return len(todo)


def _unit_costs(skus: dict[str, Sku]) -> int:
    """Purchase cost about 40–60 % of the price, for SKUs that have none."""
    rng = random.Random(RANDOM_SEED + 2)
    changed = []
    for code in sorted(skus):
        sku = skus[code]
        share = Decimal(rng.randint(40, 60)) / 100
        if sku.unit_cost == 0:
            sku.unit_cost = (sku.price * share).quantize(Decimal("0.01"))
            changed.append(sku)
    Sku.objects.bulk_update(changed, ["unit_cost"], batch_size=500)
    return len(changed)


def seed(*, stdout) -> None:
    if connection.vendor == "sqlite":
        # A bigger page cache for this connection: with SQLite's default
        # (2 MB) a long seeding transaction spills and syncs the journal.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -131072")
    with transaction.atomic():
        locations = _locations()
        created, skus = _catalogue()
        received = _opening_stock(locations=locations, skus=skus)
        listed = _listings()
        costed = _unit_costs(skus)
    stdout.write(f"  {len(locations)} locations, {len(skus)} SKUs ({created} new), "
                 f"opening stock for {received} new SKU-locations, listing data for {listed} "
                 f"products, unit costs for {costed} SKUs")
    # Operations need the sales history (sales.seed loads it after its own
    # call here), so they run on the call that follows it.
    if StockMovement.objects.filter(kind=MovementKind.CONSUME).exists():
        from inventory import seed_operations

        stdout.write("  " + seed_operations.seed_operations(locations=locations, skus=skus))
