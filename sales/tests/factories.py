"""factory_boy factories shared by the sales and inventory tests."""

from decimal import Decimal

import factory

from inventory.enums import LocationKind
from inventory.models import Location, Product, Sku
from inventory.services import stock_receive
from sales.enums import ChannelKind
from sales.models import Channel, Store
from sales.partner_keys import partner_key_create


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    code = factory.Sequence(lambda n: f"P{n:05d}")
    name = factory.Sequence(lambda n: f"商品 {n}")
    category = "服饰"
    price = Decimal("99.00")


class SkuFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sku

    product = factory.SubFactory(ProductFactory)
    code = factory.Sequence(lambda n: f"SKU{n:05d}")
    name = factory.LazyAttribute(lambda o: f"{o.product.name} 红色/M")
    attributes = factory.LazyFunction(lambda: {"颜色": "红色", "尺码": "M"})
    price = Decimal("99.00")


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    code = factory.Sequence(lambda n: f"L{n:03d}")
    name = factory.Sequence(lambda n: f"仓库 {n}")
    kind = LocationKind.WAREHOUSE
    province = "上海市"
    city = "上海市"
    district = "浦东新区"
    lat = Decimal("31.230000")
    lng = Decimal("121.470000")


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store

    location = factory.SubFactory(LocationFactory, kind=LocationKind.STORE,
                                  name=factory.Sequence(lambda n: f"门店 {n}"))
    name = factory.LazyAttribute(lambda o: o.location.name)
    address = "上海市浦东新区世纪大道 100 号"
    phone = "021-55550000"
    opening_hours = "10:00-22:00"


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"ch{n}")
    name = factory.LazyAttribute(lambda o: o.code.upper())
    kind = ChannelKind.MARKETPLACE
    commission_rate = Decimal("0.0500")


def stocked_sku(*, location: Location, quantity: int, **kwargs) -> Sku:
    """A SKU with `quantity` received at `location` through the stock service."""
    sku = SkuFactory(**kwargs)
    stock_receive(sku=sku, location=location, quantity=quantity, reason="test stock")
    return sku


def partner_key(channel: Channel) -> str:
    return partner_key_create(channel=channel)[1]


def order_body(*, external_id: str = "EXT-1", sku: str = "SKU00000", quantity: int = 1,
               unit_price: str = "99.00", fulfilment: str = "express", **overrides) -> dict:
    """A valid partner order body (SPEC §9); `paid_amount` matches the total."""
    body = {
        "external_id": external_id,
        "customer": {"name": "张三", "phone": "13800138000", "email": "zhang@example.com"},
        "lines": [{"sku": sku, "quantity": quantity, "unit_price": unit_price}],
        "shipping_address": {"province": "上海市", "city": "上海市", "district": "浦东新区",
                             "line1": "世纪大道 1 号", "lat": "31.230000", "lng": "121.470000"},
        "fulfilment": fulfilment,
        "paid_amount": str(Decimal(unit_price) * quantity),
    }
    body.update(overrides)
    return body
