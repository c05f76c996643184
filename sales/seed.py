"""Demo channels, stores and a year of orders (`manage.py seed_demo`).

Runs before `inventory.seed` (INSTALLED_APPS order), so it calls that seed
first for the goods its orders need; the second call is a no-op.

Orders of the last HISTORY_DAYS days, and every order the automatic review
stops, go through the services: `order_create` (review, reservation, ledger),
then `order_advance` / `order_cancel` / `order_retry_review` the way staff
would have moved them; only their timestamps (the services stamp "now") and
the date part of their number are rewritten afterwards. Older orders that
simply completed or were cancelled are bulk-written with the rows the services
would have written (same allocation strategy, timeline, reserve + consume or
release movements, book updated to match): one by one they would take minutes
on SQLite, and `make run` seeds a fresh clone.

Deterministic: customers and each order's content come from fixed random
seeds and static data; only the dates depend on the day the demo is loaded
(the last 12 months). Idempotent: orders are matched by (channel, external
id), so a second run creates nothing and finishes in about a second."""

import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone

from core.models import AuditEvent
from core.money import ZERO, money
from inventory import seed as inventory_seed
from inventory.allocation import allocation_plan
from inventory.enums import LocationKind, MovementKind
from inventory.models import Location, Sku, StockLevel, StockMovement
from sales import selectors
from sales.enums import ChannelKind, ExceptionReason, Fulfilment, OrderStatus, Priority
from sales.models import (
    Channel,
    ChannelSkuBuffer,
    Customer,
    Order,
    OrderAllocation,
    OrderEvent,
    OrderLine,
    Store,
)
from sales.services import (
    REVIEW_DEADLINE,
    LineInput,
    OrderInput,
    order_advance,
    order_cancel,
    order_create,
    order_retry_review,
)

S = OrderStatus
RANDOM_SEED = 20250602
# How many orders (besides a few dozen review "bursts"); settings.SEED_DEMO_ORDERS
# overrides it, e.g. to keep test runs short.
ORDER_COUNT = 3000
DAYS = 365
# Exceptions younger than this many days are still waiting for a person.
OPEN_EXCEPTION_DAYS = 3
# Orders over (completed or cancelled) before this many days ago are written in
# bulk; newer ones, and every order the review stops, go through the services.
HISTORY_DAYS = 14
BATCH = 250
STAFF_USERNAME = "demo_ecommerce"


@dataclass(frozen=True)
class DemoChannel:
    code: str
    name: str
    kind: str
    commission_rate: str
    fee_terms: str
    share: int
    stores_only: bool = False


CHANNELS = [
    DemoChannel("taobao", "淘宝", ChannelKind.MARKETPLACE, "0.0500",
                "天猫/淘宝技术服务费 5%（服饰、家居类目），支付宝交易手续费 0.6%；"
                "技术服务年费 6 万元，按年度销售额返还；货款确认收货后到账。", 30),
    DemoChannel("jd", "京东", ChannelKind.MARKETPLACE, "0.0800",
                "京东 POP 平台使用费 1000 元/月，类目佣金 8%；货款 T+15 结算；"
                "保证金 3 万元。", 20),
    DemoChannel("pinduoduo", "拼多多", ChannelKind.MARKETPLACE, "0.0060",
                "技术服务费 0.6%（按笔从货款扣除），无年费；店铺保证金 2000 元；"
                "百亿补贴活动商品另计。", 15),
    DemoChannel("douyin", "抖音", ChannelKind.SOCIAL, "0.0500",
                "抖店技术服务费 5%，达人带货佣金按计划另计（10%–20%）；"
                "货款确认收货 7 天后结算。", 12),
    DemoChannel("own_shop", "官方商城", ChannelKind.OWN_SHOP, "0.0060",
                "官网与微信小程序，无平台佣金；微信支付通道费 0.6%，T+1 到账。", 10),
    DemoChannel("store_pos", "门店收银", ChannelKind.STORE_POS, "0.0038",
                "门店收银台（银联刷卡、微信/支付宝扫码），收单手续费 0.38%，T+1 到账。", 13,
                stores_only=True),
]
CHANNEL_CODES = [c.code for c in CHANNELS]

STORES = {
    "ST-SH01": ("021-62881618", "10:00-22:00",
                "地铁 2、7 号线静安寺站步行 5 分钟，提供线上订单自提与同城配送。"),
    "ST-SH02": ("021-64071001", "10:00-22:00",
                "徐家汇商圈港汇广场 B1 层，全品类陈列，支持线上下单门店自提。"),
    "ST-SH03": ("021-65118008", "10:00-21:30",
                "五角场合生汇 2 层，服饰与运动户外主题门店，周边高校会员活动多。"),
    "ST-SH04": ("021-58365501", "09:30-22:00",
                "第一八佰伴 3 层，家居与数码配件专区，承担浦东同城配送。"),
}

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
            "于蒋蔡余杜叶程苏魏吕丁任沈")
GIVEN_NAMES = ("伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰",
               "娟", "涛", "明", "超", "秀英", "霞", "平", "刚", "桂英", "婷", "雪", "慧", "晨",
               "宇", "浩", "欣", "怡", "佳琪", "琳", "子涵", "梓萱", "一诺", "思远", "文博",
               "雨桐", "嘉怡", "晓东", "建华", "海燕", "志强", "丽娟", "俊杰", "春梅", "晓丽",
               "欣怡", "浩然", "诗涵", "宇轩", "晓燕", "国强", "美玲")
PHONE_PREFIXES = ("130", "131", "132", "135", "136", "137", "138", "139", "150", "151",
                  "155", "156", "158", "159", "177", "180", "181", "186", "187", "188",
                  "189", "199")
# (district, road, lat, lng) in Shanghai.
SHANGHAI = [
    ("浦东新区", "张杨路", 31.2300, 121.5250), ("浦东新区", "世纪大道", 31.2290, 121.5330),
    ("浦东新区", "锦绣路", 31.2070, 121.5560), ("黄浦区", "淮海中路", 31.2190, 121.4650),
    ("静安区", "愚园路", 31.2230, 121.4350), ("静安区", "共和新路", 31.2700, 121.4560),
    ("徐汇区", "漕溪北路", 31.1900, 121.4370), ("徐汇区", "龙华中路", 31.1800, 121.4550),
    ("长宁区", "天山路", 31.2130, 121.3980), ("普陀区", "曹杨路", 31.2400, 121.4150),
    ("虹口区", "四川北路", 31.2570, 121.4850), ("杨浦区", "国权路", 31.2950, 121.5100),
    ("闵行区", "莘建东路", 31.1110, 121.3850), ("宝山区", "牡丹江路", 31.4000, 121.4900),
]
# (province, city, district, road, lat, lng) elsewhere: express only.
ELSEWHERE = [
    ("北京市", "北京市", "朝阳区", "建国路", 39.9080, 116.4600),
    ("浙江省", "杭州市", "西湖区", "文三路", 30.2780, 120.1300),
    ("江苏省", "南京市", "鼓楼区", "中山北路", 32.0700, 118.7700),
    ("江苏省", "苏州市", "姑苏区", "人民路", 31.3000, 120.6200),
    ("广东省", "广州市", "天河区", "天河路", 23.1350, 113.3300),
    ("广东省", "深圳市", "南山区", "深南大道", 22.5400, 113.9500),
    ("四川省", "成都市", "武侯区", "人民南路", 30.6300, 104.0700),
    ("湖北省", "武汉市", "洪山区", "珞喻路", 30.5100, 114.3600),
    ("天津市", "天津市", "和平区", "南京路", 39.1200, 117.2000),
    ("陕西省", "西安市", "雁塔区", "长安南路", 34.2200, 108.9500),
    ("山东省", "青岛市", "市南区", "香港中路", 36.0650, 120.3900),
    ("福建省", "厦门市", "思明区", "湖滨南路", 24.4700, 118.1000),
    ("湖南省", "长沙市", "岳麓区", "麓山南路", 28.1800, 112.9400),
    ("重庆市", "重庆市", "渝中区", "民族路", 29.5580, 106.5770),
    ("安徽省", "合肥市", "蜀山区", "长江西路", 31.8600, 117.2500),
]


@dataclass(frozen=True)
class DemoCustomer:
    name: str
    phone: str
    email: str
    province: str
    city: str
    district: str
    line1: str
    lat: Decimal
    lng: Decimal

    @property
    def in_shanghai(self) -> bool:
        return self.city == "上海市"


def demo_customers(count: int = 1200) -> list[DemoCustomer]:
    rng = random.Random(RANDOM_SEED)
    phones: set[str] = set()
    customers = []
    while len(customers) < count:
        phone = rng.choice(PHONE_PREFIXES) + f"{rng.randint(0, 99_999_999):08d}"
        if phone in phones:
            continue
        phones.add(phone)
        name = rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)
        if rng.random() < 0.45:
            district, road, lat, lng = rng.choice(SHANGHAI)
            province = city = "上海市"
        else:
            province, city, district, road, lat, lng = rng.choice(ELSEWHERE)
        line1 = (f"{road} {rng.randint(1, 2000)} 弄 {rng.randint(1, 40)} 号 "
                 f"{rng.randint(1, 28)}{rng.randint(1, 4):02d} 室")
        customers.append(DemoCustomer(
            name=name, phone=phone,
            email=f"c{phone[-8:]}@example.com" if rng.random() < 0.4 else "",
            province=province, city=city, district=district, line1=line1,
            lat=Decimal(f"{lat + rng.uniform(-0.01, 0.01):.6f}"),
            lng=Decimal(f"{lng + rng.uniform(-0.01, 0.01):.6f}")))
    return customers


@dataclass
class OrderPlan:
    channel: str
    external_id: str
    customer: DemoCustomer
    lines: list[tuple[str, int, Decimal]]  # sku code, quantity, discount
    fulfilment: str
    priority: str
    created_at: datetime = None
    paid_short: Decimal = Decimal("0.00")
    note: str = ""
    number_token: str = ""
    group: str = ""
    # What happens next: the status it reaches, or cancelled from a status.
    target: str = S.COMPLETED
    cancel_from: str = ""
    approve_exception: bool = True
    expect_exception: bool = False
    durations: dict[str, timedelta] = field(default_factory=dict)

    @property
    def window(self) -> tuple[datetime, datetime] | None:
        if self.fulfilment != Fulfilment.DELIVERY:
            return None
        day = timezone.localtime(self.created_at).date() + timedelta(days=1)
        start_hour = (10, 14, 18)[int(self.number_token, 16) % 3]
        start = timezone.make_aware(datetime.combine(day, time(start_hour)))
        return start, start + timedelta(hours=2)


def _day_weight(day) -> float:
    """Seasonality: 618 and Double 11 peaks, quiet Spring Festival, weekends."""
    weight = 1.0
    if day.month == 11 and day.day <= 11:
        weight = 5.0 if day.day == 11 else 2.2
    elif day.month == 6 and day.day <= 18:
        weight = 4.0 if day.day == 18 else 1.8
    elif day.month == 12 and day.day == 12:
        weight = 2.5
    elif (day.month == 1 and day.day >= 25) or (day.month == 2 and day.day <= 10):
        weight = 0.5
    if day.weekday() >= 5:
        weight *= 1.25
    return weight


HOUR_WEIGHTS = {8: 2, 9: 4, 10: 7, 11: 8, 12: 8, 13: 6, 14: 5, 15: 5, 16: 5, 17: 5, 18: 6,
                19: 8, 20: 10, 21: 11, 22: 9, 23: 4}


def _order_times(*, count: int, now: datetime) -> list[datetime]:
    """`count` creation times over the last DAYS days, oldest first; volume
    grows through the year."""
    rng = random.Random(RANDOM_SEED + 1)
    today = timezone.localdate(now)
    days = [today - timedelta(days=ago) for ago in range(DAYS)]
    weights = [_day_weight(day) * (1.6 - 0.8 * ago / DAYS) for ago, day in enumerate(days)]
    hours, hour_weights = list(HOUR_WEIGHTS), list(HOUR_WEIGHTS.values())
    times = []
    for day in rng.choices(days, weights=weights, k=count):
        moment = timezone.make_aware(datetime.combine(
            day, time(rng.choices(hours, weights=hour_weights)[0], rng.randint(0, 59),
                      rng.randint(0, 59))))
        if moment > now - timedelta(minutes=3):
            moment = now - timedelta(minutes=rng.randint(3, 240))
        times.append(moment)
    return sorted(times)


def _external_id(channel: str, index: int, rng: random.Random) -> str:
    if channel == "taobao":
        return f"4{rng.randint(10**11, 10**12 - 1)}{index:06d}"
    if channel == "jd":
        return f"3{rng.randint(10**4, 10**5 - 1)}{index:06d}"
    if channel == "pinduoduo":
        return f"{rng.randint(10**5, 10**6 - 1)}-{rng.randint(10**8, 10**9 - 1)}{index:06d}"
    if channel == "douyin":
        return f"69{rng.randint(10**10, 10**11 - 1)}{index:06d}"
    if channel == "own_shop":
        return f"WX{rng.randint(10**7, 10**8 - 1)}{index:06d}"
    return f"POS{index:07d}"


def _pick_lines(rng: random.Random, skus: list, weights: list[int]) -> list[tuple[str, int]]:
    count = rng.choices((1, 2, 3, 4), weights=(60, 25, 10, 5))[0]
    chosen: dict[str, int] = {}
    while len(chosen) < count:
        sku = rng.choices(skus, weights=weights)[0]
        chosen.setdefault(sku.code, rng.choices((1, 2, 3), weights=(80, 15, 5))[0])
    return list(chosen.items())


def _discounted(lines: list[tuple[str, int]], prices: dict[str, Decimal],
                rng: random.Random) -> list[tuple[str, int, Decimal]]:
    """A quarter of online orders get a store-wide 满减 on their dearest line."""
    subtotal = sum(prices[code] * qty for code, qty in lines)
    off = Decimal("0.00")
    if rng.random() < 0.25:
        for threshold, amount in ((499, 50), (299, 30), (199, 20), (99, 10)):
            if subtotal >= threshold:
                off = Decimal(amount)
                break
    dearest = max(lines, key=lambda line: prices[line[0]] * line[1])[0]
    return [(code, qty, off if code == dearest else Decimal("0.00")) for code, qty in lines]


def _outcome(plan: OrderPlan, age: timedelta, rng: random.Random) -> None:
    """What staff did with the order since, given how old it is."""
    days = age.total_seconds() / 86400
    roll = rng.random()
    if plan.channel == "store_pos":  # sold over the counter, collected at once
        plan.target = S.COMPLETED if days > 0.1 or roll < 0.5 else S.DELIVERED
        return
    if days > 10:
        table = ((0.91, S.COMPLETED, ""), (0.95, S.CANCELLED, S.CONFIRMED),
                 (0.98, S.CANCELLED, S.PICKING), (1.0, S.CANCELLED, S.PACKED))
    elif days > 3:
        table = ((0.45, S.COMPLETED, ""), (0.88, S.DELIVERED, ""), (0.93, S.DISPATCHED, ""),
                 (1.0, S.CANCELLED, S.CONFIRMED))
    elif days > 1:
        table = ((0.40, S.DELIVERED, ""), (0.80, S.DISPATCHED, ""), (0.90, S.PACKED, ""),
                 (1.0, S.CANCELLED, S.CONFIRMED))
    else:
        table = ((0.30, S.CONFIRMED, ""), (0.55, S.PICKING, ""), (0.72, S.PACKED, ""),
                 (0.90, S.DISPATCHED, ""), (1.0, S.CANCELLED, S.CONFIRMED))
    for limit, target, cancel_from in table:
        if roll < limit:
            plan.target, plan.cancel_from = target, cancel_from
            return


def _durations(plan: OrderPlan, rng: random.Random) -> dict[str, timedelta]:
    def minutes(lo: float, hi: float) -> timedelta:
        return timedelta(minutes=rng.uniform(lo, hi))

    if plan.channel == "store_pos":
        return {S.CONFIRMED: minutes(0.1, 0.5), S.PICKING: minutes(0.5, 2),
                S.PACKED: minutes(1, 3), S.DISPATCHED: minutes(0.5, 2),
                S.DELIVERED: minutes(0.2, 1), S.COMPLETED: minutes(1, 10),
                S.CANCELLED: minutes(1, 5), S.EXCEPTION: minutes(0.1, 0.5)}
    delivered = {Fulfilment.DELIVERY: minutes(60, 240), Fulfilment.EXPRESS: minutes(1200, 4300),
                 Fulfilment.PICKUP: minutes(180, 2800)}[plan.fulfilment]
    return {S.CONFIRMED: minutes(0.1, 0.7), S.EXCEPTION: minutes(0.1, 0.7),
            "resolve": minutes(20, 600), S.PICKING: minutes(15, 240),
            S.PACKED: minutes(10, 90), S.DISPATCHED: minutes(30, 360),
            S.DELIVERED: delivered, S.COMPLETED: minutes(5 * 1440, 10 * 1440),
            S.CANCELLED: minutes(5, 720)}


def order_plans(*, now: datetime) -> list[OrderPlan]:
    """The demo's orders, oldest first. Content per order comes from its own
    seeded generator, so the same index always yields the same order."""
    customers = demo_customers()
    elsewhere = [c for c in customers if not c.in_shanghai]
    skus = inventory_seed.catalogue_skus()
    prices = {s.code: s.price for s in skus}
    demand = [s.demand for s in skus]
    by_code = {s.code: s for s in skus}
    assortment: dict[str, list] = {code: [] for code in inventory_seed.STORE_CODES}
    for sku_code, location_code, _qty in inventory_seed.opening_stock_plan():
        if location_code in assortment:
            assortment[location_code].append(by_code[sku_code])
    store_addresses = {loc.code: loc for loc in inventory_seed.LOCATIONS}
    shares = [c.share for c in CHANNELS]
    count = getattr(settings, "SEED_DEMO_ORDERS", None) or ORDER_COUNT
    times = _order_times(count=count, now=now)
    plans = []
    tokens: set[str] = set()
    for index, created_at in enumerate(times):
        rng = random.Random(f"{RANDOM_SEED}-order-{index}")
        channel = rng.choices(CHANNEL_CODES, weights=shares)[0]
        token = f"{rng.getrandbits(32):08X}"
        while token in tokens:
            token = f"{rng.getrandbits(32):08X}"
        tokens.add(token)
        customer = rng.choice(customers)
        if channel == "store_pos":
            store = rng.choice(inventory_seed.STORE_CODES)
            where = store_addresses[store]
            customer = DemoCustomer(
                name=customer.name, phone=customer.phone, email=customer.email,
                province="上海市", city="上海市", district=where.district,
                line1=where.address, lat=Decimal(where.lat), lng=Decimal(where.lng))
            pool = assortment[store]
            lines = _pick_lines(rng, pool, [s.demand for s in pool])
            plan = OrderPlan(channel=channel, external_id=_external_id(channel, index, rng),
                             customer=customer,
                             lines=[(code, qty, Decimal("0.00")) for code, qty in lines],
                             fulfilment=Fulfilment.PICKUP, priority=Priority.NORMAL)
        else:
            fulfilment = Fulfilment.EXPRESS
            if customer.in_shanghai:
                roll = rng.random()
                share_delivery = 0.35 if channel == "own_shop" else 0.15
                if roll < share_delivery:
                    fulfilment = Fulfilment.DELIVERY
                elif roll < share_delivery + (0.12 if channel == "own_shop" else 0.04):
                    fulfilment = Fulfilment.PICKUP
            priority = rng.choices(
                (Priority.URGENT, Priority.MEMBER, Priority.NORMAL),
                weights=(4, 30 if channel == "own_shop" else 10, 70))[0]
            lines = _discounted(_pick_lines(rng, skus, demand), prices, rng)
            plan = OrderPlan(channel=channel, external_id=_external_id(channel, index, rng),
                             customer=customer, lines=lines, fulfilment=fulfilment,
                             priority=priority)
            _maybe_exception(plan, now - created_at, rng, elsewhere)
        plan.created_at, plan.number_token = created_at, token
        _outcome(plan, now - created_at, rng)
        plan.durations = _durations(plan, rng)
        plans.append(plan)
    plans.extend(_burst_plans(now=now, customers=customers, skus=skus, demand=demand,
                              prices=prices, tokens=tokens))
    plans.sort(key=lambda p: p.created_at)
    return plans


def _maybe_exception(plan: OrderPlan, age: timedelta, rng: random.Random,
                     elsewhere: list[DemoCustomer]) -> None:
    """Online orders the automatic review will stop: more of them among the
    last few days' orders (older ones have been resolved since)."""
    chance = 0.25 if age < timedelta(days=OPEN_EXCEPTION_DAYS) else 0.035
    if rng.random() >= chance:
        return
    kind = rng.choices(("payment", "area", "stock"), weights=(45, 30, 25))[0]
    plan.expect_exception = True
    if kind == "payment":
        plan.paid_short = Decimal(rng.choice((5, 10, 20, 30)))
        plan.note = "平台优惠券金额未同步"
        plan.approve_exception = rng.random() < 0.75
    elif kind == "area":
        plan.customer = rng.choice(elsewhere)
        plan.fulfilment = Fulfilment.DELIVERY
        plan.note = "顾客选择了同城配送"
        plan.approve_exception = False
    else:
        code, _qty, discount = plan.lines[0]
        plan.lines[0] = (code, 500, discount)
        plan.note = "企业团购，需整单发货"
        plan.approve_exception = False


def _burst_plans(*, now, customers, skus, demand, prices, tokens) -> list[OrderPlan]:
    """Orders the review flags because of what came just before them: a
    customer's double submission (possible duplicate) and a run of orders to
    one address within the hour (fraud suspected). Created back to back."""
    rng = random.Random(RANDOM_SEED + 2)
    plans = []

    def new_token() -> str:
        token = f"{rng.getrandbits(32):08X}"
        while token in tokens:
            token = f"{rng.getrandbits(32):08X}"
        tokens.add(token)
        return token

    days_ago = (1, 2, 25, 60, 110, 170, 230, 300, 0.3)
    for n, ago in enumerate(days_ago):
        customer = rng.choice(customers)
        channel = rng.choice(("taobao", "jd", "douyin"))
        lines = [(code, qty, Decimal("0.00")) for code, qty in _pick_lines(rng, skus, demand)]
        start = now - timedelta(days=ago, minutes=rng.randint(5, 600))
        for twin in range(2):
            plan = OrderPlan(
                channel=channel, external_id=f"{_external_id(channel, 900000 + n, rng)}{twin}",
                customer=customer, lines=list(lines),
                fulfilment=Fulfilment.EXPRESS, priority=Priority.NORMAL,
                created_at=start + timedelta(minutes=3 * twin), number_token=new_token(),
                group=f"dup-{n}", approve_exception=False)
            _outcome(plan, now - plan.created_at, rng)
            plan.durations = _durations(plan, rng)
            plans.append(plan)
    shanghai = [c for c in customers if c.in_shanghai]
    for n, ago in enumerate((0.8, 45, 200)):
        address = rng.choice(shanghai)
        start = now - timedelta(days=ago, minutes=rng.randint(60, 300))
        for member in range(6):
            buyer = rng.choice(customers)
            customer = DemoCustomer(
                name=buyer.name, phone=buyer.phone, email=buyer.email,
                province=address.province, city=address.city, district=address.district,
                line1=address.line1, lat=address.lat, lng=address.lng)
            plan = OrderPlan(
                channel="pinduoduo",
                external_id=_external_id("pinduoduo", 950000 + n * 10 + member, rng),
                customer=customer, lines=[(rng.choice(skus).code, 1, Decimal("0.00"))],
                fulfilment=Fulfilment.EXPRESS, priority=Priority.NORMAL,
                created_at=start + timedelta(minutes=7 * member), number_token=new_token(),
                group=f"fraud-{n}", approve_exception=False)
            _outcome(plan, now - plan.created_at, rng)
            plan.durations = _durations(plan, rng)
            plans.append(plan)
    return plans


# --- loading -------------------------------------------------------------------

def _channels(locations: dict[str, Location]) -> dict[str, Channel]:
    stores = [locations[code] for code in inventory_seed.STORE_CODES]
    out = {}
    for demo in CHANNELS:
        channel, created = Channel.objects.get_or_create(code=demo.code, defaults={
            "name": demo.name, "kind": demo.kind,
            "commission_rate": Decimal(demo.commission_rate), "fee_terms": demo.fee_terms})
        if created:
            warehouse = [] if demo.stores_only else [locations[inventory_seed.MAIN_WAREHOUSE]]
            channel.locations.add(*warehouse, *stores)
        out[demo.code] = channel
    return out


def _buffers(channels: dict[str, Channel]) -> None:
    """Marketplaces hold a little of the best sellers back (oversell guard)."""
    top = sorted(inventory_seed.catalogue_skus(), key=lambda s: (-s.demand, s.code))[:12]
    skus = {s.code: s for s in Sku.objects.filter(code__in=[t.code for t in top])}
    for code, buffer in (("taobao", 5), ("jd", 5), ("pinduoduo", 3)):
        for demo in top:
            ChannelSkuBuffer.objects.get_or_create(channel=channels[code], sku=skus[demo.code],
                                                   defaults={"buffer": buffer})


def _stores(locations: dict[str, Location]) -> None:
    for code, (phone, hours, intro) in STORES.items():
        location = locations[code]
        Store.objects.get_or_create(location=location, defaults={
            "name": location.name, "address": location.address, "phone": phone,
            "opening_hours": hours, "introduction": intro})


FORWARD = [S.CONFIRMED, S.PICKING, S.PACKED, S.DISPATCHED, S.DELIVERED, S.COMPLETED]
CUSTOMER_CANCEL_REASON = "买家申请取消"


def _planned_path(plan: OrderPlan, first: str) -> list[str]:
    """The statuses the order passes through after its review ends in `first`."""
    path = [first]
    if first == S.EXCEPTION:
        path.append("resolve")
    end = plan.cancel_from or plan.target
    if end in FORWARD:
        path += FORWARD[1:FORWARD.index(end) + 1]
    if plan.cancel_from:
        path.append(S.CANCELLED)
    return path


def _partner_label(plan: OrderPlan) -> str:
    return "pos" if plan.channel == "store_pos" else f"partner:{plan.channel}"


def _advance_label(step: str) -> str:
    return "system" if step == S.COMPLETED else "demo_delivery"


class _Clock:
    """Walks an order's planned timeline, squeezed so that it ends before now."""

    def __init__(self, plan: OrderPlan, path: list[str], now: datetime) -> None:
        budget = max((now - plan.created_at - timedelta(minutes=1)).total_seconds(), 0)
        planned = sum(plan.durations.get(step, timedelta()).total_seconds() for step in path)
        self.scale = min(1.0, budget / planned) if planned > 0 else 1.0
        self.plan, self.now, self.at = plan, now, plan.created_at

    def tick(self, step: str) -> datetime:
        step_time = self.plan.durations.get(step, timedelta()) * self.scale
        self.at = min(self.at + step_time, self.now - timedelta(seconds=1))
        return self.at


def _update_rows(model, columns: list[str], rows: list[tuple]) -> None:
    """`UPDATE … SET columns WHERE pk`, one row per tuple (values…, pk), through
    executemany: the services stamp "now", and bulk_update's CASE expressions
    are too slow for tens of thousands of rows."""
    if not rows:
        return
    ops = connection.ops
    fields = [model._meta.get_field(column) for column in columns]
    assignments = ", ".join(f"{ops.quote_name(f.column)} = %s" for f in fields)
    sql = (f"UPDATE {ops.quote_name(model._meta.db_table)} SET {assignments} "  # noqa: S608 - names from model meta
           f"WHERE {ops.quote_name(model._meta.pk.column)} = %s")
    params = [[f.get_db_prep_value(value, connection) for f, value in zip(fields, row[:-1],
                                                                          strict=True)]
              + [row[-1]] for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _is_historic(plan: OrderPlan, now: datetime) -> bool:
    return (now - plan.created_at > timedelta(days=HISTORY_DAYS) and not plan.expect_exception
            and not plan.group and (plan.target == S.COMPLETED or bool(plan.cancel_from)))


def _load_history(plans: list[OrderPlan], *, channels: dict[str, Channel],
                  skus: dict[str, Sku], now: datetime) -> tuple[int, list[OrderPlan]]:
    """Bulk-write orders that were over (completed or cancelled) long ago.

    The rows are what the services would have written: the same allocation
    strategy over the same serving locations, the same timeline events, and
    reserve + consume (or release) movements with the book updated to match,
    so the ledger still equals the book. Plans the stock cannot serve are
    handed back to go through the services (and their review)."""
    if not plans:
        return 0, []
    serving_by_channel = {code: selectors.channel_locations(channel=channel)
                          for code, channel in channels.items()}
    stores = {store.location_id: store for store in Store.objects.all()}
    levels = {(lv.sku_id, lv.location_id): lv
              for lv in StockLevel.objects.select_for_update().order_by("pk")}
    available = {key: lv.on_hand - lv.reserved for key, lv in levels.items()}
    customers = {c.phone: c for c in Customer.objects.filter(
        phone__in={p.customer.phone for p in plans})}
    new_customers: list[Customer] = []
    served, leftovers = [], []
    for plan in plans:
        c = plan.customer
        demand: dict[int, int] = {}
        for code, qty, _discount in plan.lines:
            demand[skus[code].pk] = demand.get(skus[code].pk, 0) + qty
        serving = selectors.serving_locations(
            locations=serving_by_channel[plan.channel], fulfilment=plan.fulfilment,
            city=c.city, lat=c.lat, lng=c.lng)
        picks = allocation_plan(demand=demand, locations=[loc.pk for loc in serving],
                                available=available)
        if picks is None:
            leftovers.append(plan)
            continue
        if not plan.cancel_from:
            for pick in picks:
                available[(pick.sku_id, pick.location_id)] -= pick.quantity
        pickup_store = None
        if plan.fulfilment == Fulfilment.PICKUP:
            first = next((loc for loc in serving if loc.kind == LocationKind.STORE), None)
            pickup_store = stores.get(first.pk) if first else None
        if c.phone not in customers:
            customers[c.phone] = Customer(name=c.name, phone=c.phone, email=c.email)
            new_customers.append(customers[c.phone])
        served.append((plan, picks, pickup_store))
    Customer.objects.bulk_create(new_customers, batch_size=500)

    orders, lines, allocations, events, movements = [], [], [], [], []
    event_times, movement_times, order_times = [], [], []
    consumed: dict[tuple[int, int], int] = {}
    for plan, picks, pickup_store in served:
        c = plan.customer
        path = _planned_path(plan, S.CONFIRMED)
        clock = _Clock(plan, path, now)
        times = dict(zip(path, (clock.tick(step) for step in path), strict=True))
        priced = [(skus[code], qty, money(discount)) for code, qty, discount in plan.lines]
        subtotal = money(sum((sku.price * qty for sku, qty, _d in priced), ZERO))
        discount_total = money(sum((d for _s, _q, d in priced), ZERO))
        window = plan.window
        order = Order(
            number=f"RT{timezone.localtime(plan.created_at):%y%m%d}{plan.number_token}",
            channel=channels[plan.channel], external_id=plan.external_id,
            customer=customers[c.phone], status=path[-1], priority=plan.priority,
            fulfilment=plan.fulfilment, pickup_store=pickup_store, province=c.province,
            city=c.city, district=c.district, line1=c.line1, lat=c.lat, lng=c.lng,
            window_start=window[0] if window else None,
            window_end=window[1] if window else None,
            subtotal=subtotal, discount_total=discount_total,
            total=money(subtotal - discount_total), paid_amount=money(subtotal - discount_total),
            note=plan.note, review_deadline=plan.created_at + REVIEW_DEADLINE,
            created_at=plan.created_at)
        orders.append(order)
        order_times.append((order, times[path[-1]]))
        lines += [OrderLine(order=order, sku=sku, sku_code=sku.code, name=sku.name,
                            quantity=qty, unit_price=sku.price, discount=discount,
                            line_total=money(sku.price * qty - discount))
                  for sku, qty, discount in priced]
        allocations += [OrderAllocation(order=order, sku_id=p.sku_id, location_id=p.location_id,
                                        quantity=p.quantity) for p in picks]
        label = _partner_label(plan)
        timeline = [(OrderEvent(order=order, kind="created", to_status=S.PENDING_REVIEW,
                                actor_label=label), plan.created_at)]
        previous = S.PENDING_REVIEW
        for step in path:
            if step == S.CONFIRMED:
                by, why = label, "review passed"
            elif step == S.CANCELLED:
                by, why = label, CUSTOMER_CANCEL_REASON
            else:
                by, why = _advance_label(step), ""
            timeline.append((OrderEvent(order=order, kind="status", from_status=previous,
                                        to_status=step, actor_label=by, reason=why),
                             times[step]))
            previous = step
        events += [event for event, _when in timeline]
        event_times += timeline
        stock_steps = [(MovementKind.RESERVE, 0, 1, order.number, S.CONFIRMED)]
        if S.DISPATCHED in times:
            stock_steps.append((MovementKind.CONSUME, -1, -1, f"dispatch {order.number}",
                                S.DISPATCHED))
        if S.CANCELLED in times:
            stock_steps.append((MovementKind.RELEASE, 0, -1, f"cancel {order.number}",
                                S.CANCELLED))
        for kind, on_hand_sign, reserved_sign, reason, step in stock_steps:
            for pick in picks:
                movement = StockMovement(
                    sku_id=pick.sku_id, location_id=pick.location_id, kind=kind,
                    on_hand_delta=on_hand_sign * pick.quantity,
                    reserved_delta=reserved_sign * pick.quantity, order=order, reason=reason)
                movements.append(movement)
                movement_times.append((movement, times[step]))
                if kind == MovementKind.CONSUME:
                    key = (pick.sku_id, pick.location_id)
                    consumed[key] = consumed.get(key, 0) + pick.quantity

    Order.objects.bulk_create(orders, batch_size=500)
    for model, rows in ((OrderLine, lines), (OrderAllocation, allocations),
                        (OrderEvent, events), (StockMovement, movements)):
        model.objects.bulk_create(rows, batch_size=500)
    changed = []
    for key, quantity in consumed.items():
        levels[key].on_hand -= quantity
        changed.append(levels[key])
    StockLevel.objects.bulk_update(changed, ["on_hand"], batch_size=500)
    _update_rows(OrderEvent, ["created_at"], [(when, e.pk) for e, when in event_times])
    _update_rows(StockMovement, ["created_at"], [(when, m.pk) for m, when in movement_times])
    _update_rows(Order, ["updated_at"], [(when, o.pk) for o, when in order_times])
    return len(orders), leftovers


@dataclass
class _Loaded:
    order: Order
    old_number: str
    created_at: datetime
    steps: list[tuple[str, datetime]] = field(default_factory=list)  # per status event
    audits: dict[str, datetime] = field(default_factory=dict)  # staff action -> when


class _Loader:
    """Orders of the last weeks, and every order the review stops, go
    through the services one by one."""

    def __init__(self, *, now: datetime, channels: dict[str, Channel], skus: dict[str, Sku]):
        self.now = now
        self.channels = channels
        self.skus = skus
        self.staff = get_user_model().objects.filter(username=STAFF_USERNAME).first()
        self.created = 0

    def create(self, plan: OrderPlan) -> _Loaded:
        lines = [LineInput(sku=self.skus[code], quantity=qty, unit_price=self.skus[code].price,
                           discount=discount) for code, qty, discount in plan.lines]
        total = sum((line.unit_price * line.quantity - line.discount for line in lines), ZERO)
        window = plan.window
        c = plan.customer
        order, _created = order_create(channel=self.channels[plan.channel], data=OrderInput(
            external_id=plan.external_id, customer_name=c.name, customer_phone=c.phone,
            customer_email=c.email, lines=lines, province=c.province, city=c.city,
            district=c.district, line1=c.line1, lat=c.lat, lng=c.lng,
            fulfilment=plan.fulfilment, paid_amount=total - plan.paid_short,
            window_start=window[0] if window else None,
            window_end=window[1] if window else None,
            note=plan.note, priority=plan.priority,
        ), actor_label=_partner_label(plan))
        self.created += 1
        return _Loaded(order=order, old_number=order.number, created_at=plan.created_at)

    def backdate(self, loaded: _Loaded, plan: OrderPlan) -> None:
        """Date the order as planned before the next one is reviewed (the
        duplicate and fraud checks look at recent orders)."""
        number = f"RT{timezone.localtime(plan.created_at):%y%m%d}{plan.number_token}"
        Order.objects.filter(pk=loaded.order.pk).update(
            number=number, created_at=plan.created_at,
            review_deadline=plan.created_at + REVIEW_DEADLINE)
        loaded.order.number = number
        loaded.order.created_at = plan.created_at

    def live(self, loaded: _Loaded, plan: OrderPlan) -> None:
        """Move the order on the way staff did, through the services."""
        order = loaded.order
        clock = _Clock(plan, _planned_path(plan, order.status), self.now)
        loaded.steps.append((order.status, clock.tick(order.status)))
        if order.status == S.EXCEPTION:
            if self.now - plan.created_at < timedelta(days=OPEN_EXCEPTION_DAYS):
                return  # still in the exception queue
            when = clock.tick("resolve")
            if plan.approve_exception:
                order = order_retry_review(order=order, actor=self.staff, approve=True,
                                           reason="已与顾客核实，人工放行")
                loaded.steps.append((order.status, when))
                loaded.audits["order.approve"] = when
            if order.status == S.EXCEPTION:
                order_cancel(order=order, actor=self.staff,
                             reason=_cancel_reason(order.exception_reason))
                loaded.steps.append((S.CANCELLED, clock.tick(S.CANCELLED)))
                loaded.audits["order.cancel"] = loaded.steps[-1][1]
                return
        for step in FORWARD[1:]:
            if plan.cancel_from == order.status:
                order = order_cancel(order=order, actor_label=_partner_label(plan),
                                     reason=CUSTOMER_CANCEL_REASON)
                loaded.steps.append((S.CANCELLED, clock.tick(S.CANCELLED)))
                return
            if order.status == plan.target:
                return
            order = order_advance(order=order, to_status=step, actor_label=_advance_label(step))
            loaded.steps.append((step, clock.tick(step)))


def _cancel_reason(reason: str) -> str:
    return {
        ExceptionReason.ADDRESS_OUT_OF_AREA: "超出同城配送范围，顾客改约后重新下单",
        ExceptionReason.INSUFFICIENT_STOCK: "库存不足，已与顾客协商取消并退款",
        ExceptionReason.PAYMENT_MISMATCH: "实付金额不符，已退款取消",
        ExceptionReason.POSSIBLE_DUPLICATE: "重复下单，保留第一笔",
        ExceptionReason.FRAUD_SUSPECTED: "疑似刷单，风控取消",
    }.get(reason, "人工取消")


def _retime(batch: list[_Loaded]) -> None:
    """Give the batch's events, stock movements and audit rows the planned
    times (the services stamped them "now")."""
    by_id = {loaded.order.pk: loaded for loaded in batch}
    rows = []
    seen: dict[int, int] = {}
    for pk, order_id, kind in (OrderEvent.objects.filter(order_id__in=by_id)
                               .order_by("order_id", "pk").values_list("pk", "order_id",
                                                                       "kind")):
        loaded = by_id[order_id]
        when = loaded.created_at
        if kind == "status" and loaded.steps:
            index = seen.get(order_id, 0)
            seen[order_id] = index + 1
            when = loaded.steps[min(index, len(loaded.steps) - 1)][1]
        rows.append((when, pk))
    _update_rows(OrderEvent, ["created_at"], rows)

    movement_status = {MovementKind.RESERVE: S.CONFIRMED, MovementKind.CONSUME: S.DISPATCHED,
                       MovementKind.RELEASE: S.CANCELLED}
    rows = []
    for pk, order_id, kind, reason in (StockMovement.objects.filter(order_id__in=by_id)
                                       .values_list("pk", "order_id", "kind", "reason")):
        loaded = by_id[order_id]
        times = [when for status, when in loaded.steps if status == movement_status.get(kind)]
        rows.append((times[-1] if times else loaded.created_at,
                     reason.replace(loaded.old_number, loaded.order.number), pk))
    _update_rows(StockMovement, ["created_at", "reason"], rows)

    audits = AuditEvent.objects.filter(target_type="sales.order",
                                       target_id__in=[str(pk) for pk in by_id])
    _update_rows(AuditEvent, ["created_at"], [
        (by_id[int(target_id)].audits.get(action, by_id[int(target_id)].created_at), pk)
        for pk, target_id, action in audits.values_list("pk", "target_id", "action")])
    _update_rows(Order, ["updated_at"], [
        (max([loaded.created_at, *(when for _status, when in loaded.steps)]), pk)
        for pk, loaded in by_id.items()])


def _load_live(plans: list[OrderPlan], *, channels: dict[str, Channel],
               skus: dict[str, Sku], now: datetime) -> int:
    loader = _Loader(now=now, channels=channels, skus=skus)
    # Members of a burst are created back to back, before any is backdated.
    groups: list[list[OrderPlan]] = []
    for plan in plans:
        if plan.group and groups and groups[-1][0].group == plan.group:
            groups[-1].append(plan)
        else:
            groups.append([plan])
    for start in range(0, len(groups), BATCH):
        with transaction.atomic():
            batch: list[_Loaded] = []
            for group in groups[start:start + BATCH]:
                loaded = [loader.create(plan) for plan in group]
                for item, plan in zip(loaded, group, strict=True):
                    loader.backdate(item, plan)
                for item, plan in zip(loaded, group, strict=True):
                    loader.live(item, plan)
                batch.extend(loaded)
            _retime(batch)
    return loader.created


def _load_orders(*, channels: dict[str, Channel], now: datetime) -> int:
    plans = order_plans(now=now)
    existing = set(Order.objects.filter(channel__code__in=CHANNEL_CODES)
                   .values_list("channel__code", "external_id"))
    todo = [p for p in plans if (p.channel, p.external_id) not in existing]
    if not todo:
        return 0
    codes = {code for p in todo for code, _qty, _d in p.lines}
    skus = {s.code: s for s in Sku.objects.filter(code__in=codes)}
    first_customer = Customer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    with transaction.atomic():
        created, leftovers = _load_history([p for p in todo if _is_historic(p, now)],
                                           channels=channels, skus=skus, now=now)
    live = [p for p in todo if not _is_historic(p, now)] + leftovers
    group_start: dict[str, datetime] = {}
    for plan in live:
        if plan.group:
            group_start[plan.group] = min(group_start.get(plan.group, plan.created_at),
                                          plan.created_at)
    live.sort(key=lambda p: (group_start.get(p.group, p.created_at), p.group, p.created_at))
    created += _load_live(live, channels=channels, skus=skus, now=now)
    # A customer joined with their first order.
    with transaction.atomic():
        _update_rows(Customer, ["created_at"], [
            (first_order, pk) for pk, first_order in Customer.objects.filter(
                pk__gt=first_customer).annotate(first_order=Min("orders__created_at"))
            .values_list("pk", "first_order") if first_order is not None])
    return created


def seed(*, stdout) -> None:
    inventory_seed.seed(stdout=stdout)
    codes = [loc.code for loc in inventory_seed.LOCATIONS]
    with transaction.atomic():
        locations = {loc.code: loc for loc in Location.objects.filter(code__in=codes)}
        channels = _channels(locations)
        _buffers(channels)
        _stores(locations)
    created = _load_orders(channels=channels, now=timezone.now())
    total = Order.objects.filter(channel__code__in=CHANNEL_CODES).count()
    stdout.write(f"  {len(channels)} channels, {len(STORES)} stores, {created} new orders "
                 f"({total} orders on the demo channels)")
