"""Inventory test data: builds on the shared sales factories (SKUs,
locations) and receives stock only through the stock service."""

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from inventory.listings import category_save
from inventory.models import Category, CategoryAttribute, ProductImage
from sales.tests.factories import (  # noqa: F401 - re-exported
    ChannelFactory,
    LocationFactory,
    ProductFactory,
    SkuFactory,
    StoreFactory,
    stocked_sku,
)


def category(code: str, name: str, parent: Category | None = None,
             required: tuple[str, ...] = ()) -> Category:
    node = category_save(category=Category(code=code, name=name, parent=parent))
    for i, attr in enumerate(required):
        CategoryAttribute.objects.create(category=node, name=attr, position=i)
    return node


class ProductImageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductImage

    url = factory.Sequence(lambda n: f"https://img.example.com/{n}.jpg")
    position = factory.Sequence(lambda n: n)


def staff(department: str | None, username: str | None = None, **extra):
    user = get_user_model().objects.create_user(
        username or f"staff_{department or 'none'}", password="pw-12345678", is_staff=True,
        **extra)
    if department:
        user.groups.add(Group.objects.get(name=department))
    return user


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def sku_with_cost(**kwargs):
    kwargs.setdefault("unit_cost", Decimal("40.00"))
    return SkuFactory(**kwargs)
