"""factory_boy factories and builders for the delivery tests."""

from __future__ import annotations

import itertools
from datetime import date, time, timedelta
from decimal import Decimal

import factory
from django.contrib.auth.models import Group, User
from django.utils import timezone
from rest_framework.test import APIClient

from delivery.enums import CourierStatus, CourseKind, TrainingStatus, VehicleKind
from delivery.models import (
    Carrier,
    CarrierCoverage,
    CarrierRate,
    Courier,
    TrainingCourse,
    TrainingRecord,
    Vehicle,
    Zone,
    ZoneDistrict,
)
from inventory.enums import LocationKind
from sales.enums import Fulfilment, Priority
from sales.services import LineInput, OrderInput, order_create
from sales.tests.factories import ChannelFactory, LocationFactory, stocked_sku

CENTRE = (Decimal("31.230000"), Decimal("121.470000"))
_phones = itertools.count(1)


class ZoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Zone
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"z{n}")
    name = factory.Sequence(lambda n: f"区域 {n}")
    centre_lat = CENTRE[0]
    centre_lng = CENTRE[1]

    @factory.post_generation
    def districts(self, create, extracted, **kwargs):
        for district in extracted or [f"{self.code}区"]:
            ZoneDistrict.objects.create(zone=self, district=district)


class VehicleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vehicle

    plate = factory.Sequence(lambda n: f"沪A{n:05d}")
    kind = VehicleKind.TRICYCLE
    capacity_volume_l = 400
    capacity_weight_kg = 150
    odometer_km = 1000
    maintenance_interval_days = 90
    maintenance_interval_km = 3000
    last_maintenance_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=10))
    last_maintenance_km = 900
    maintenance_due_on = factory.LazyAttribute(
        lambda o: o.last_maintenance_on + timedelta(days=o.maintenance_interval_days))
    maintenance_due_km = factory.LazyAttribute(
        lambda o: o.last_maintenance_km + o.maintenance_interval_km)
    insurance_policy_no = factory.Sequence(lambda n: f"PICC{n:08d}")
    insurance_expires_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=200))


def onboarding_course() -> TrainingCourse:
    course, _ = TrainingCourse.objects.get_or_create(
        code="onboarding", defaults={"name": "入职培训", "kind": CourseKind.ONBOARDING})
    return course


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"courier{n}")


class CourierFactory(factory.django.DjangoModelFactory):
    """An active, trained courier on shift all day with a usable vehicle."""

    class Meta:
        model = Courier
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    employee_no = factory.Sequence(lambda n: f"PS{n:04d}")
    name = factory.Sequence(lambda n: f"骑手{n}")
    phone = factory.Sequence(lambda n: f"1390000{n:04d}")
    hired_on = date(2024, 1, 1)
    status = CourierStatus.ACTIVE
    shift_start = time(0, 0)
    shift_end = time(23, 59, 59)
    vehicle = factory.SubFactory(VehicleFactory)

    @factory.post_generation
    def zones(self, create, extracted, **kwargs):
        if extracted:
            self.zones.set(extracted)

    @factory.post_generation
    def trained(self, create, extracted, **kwargs):
        if extracted is False:
            return
        TrainingRecord.objects.create(courier=self, course=onboarding_course(),
                                      status=TrainingStatus.PASSED, due_on=self.hired_on,
                                      completed_on=self.hired_on, score=90)


def courier_client(courier: Courier) -> APIClient:
    client = APIClient()
    client.force_authenticate(courier.user)
    return client


def staff(department: str, username: str | None = None) -> User:
    user = User.objects.create_user(username or f"staff_{department}_{next(_phones)}",
                                    password="pw-12345678", is_staff=True)
    user.groups.add(Group.objects.get(name=department))
    return user


def staff_client(department: str | None) -> APIClient:
    client = APIClient()
    if department:
        client.force_login(staff(department))
    return client


class Shop:
    """A channel with a stocked SKU, making confirmed orders through the service."""

    def __init__(self, *, stock: int = 10_000, weight_grams: int = 1000):
        warehouse = LocationFactory(code=f"ST{next(_phones)}", kind=LocationKind.STORE)
        self.channel = ChannelFactory(code=f"shop{next(_phones)}")
        self.channel.locations.add(warehouse)
        self.sku = stocked_sku(location=warehouse, quantity=stock,
                               code=f"SKU-D{next(_phones):05d}")
        self.sku.weight_grams = weight_grams
        self.sku.save(update_fields=["weight_grams"])

    def order(self, *, district: str, quantity: int = 1, lat: str | None = None,
              lng: str | None = None, fulfilment: str = Fulfilment.DELIVERY,
              window_hours: tuple[float, float] | None = (0, 3), priority=Priority.NORMAL,
              city: str = "上海市", province: str = "上海市"):
        n = next(_phones)
        now = timezone.now()
        start = end = None
        if window_hours is not None:
            start = now + timedelta(hours=window_hours[0])
            end = now + timedelta(hours=window_hours[1])
        order, _ = order_create(channel=self.channel, data=OrderInput(
            external_id=f"E{n}", customer_name="客户", customer_phone=f"1380{n:07d}",
            customer_email="", lines=[LineInput(sku=self.sku, quantity=quantity,
                                                unit_price=Decimal("10.00"))],
            province=province, city=city, district=district, line1=f"测试路 {n} 号",
            fulfilment=fulfilment, paid_amount=Decimal("10.00") * quantity,
            lat=Decimal(lat) if lat else CENTRE[0] + Decimal(n % 17) / 1000,
            lng=Decimal(lng) if lng else CENTRE[1] + Decimal(n % 13) / 1000,
            window_start=start, window_end=end, priority=priority))
        assert order.status == "confirmed", order.exception_reason
        return order


def carrier(code: str = "sf", *, province: str = "浙江省", first_kg: str = "12.00",
            extra_kg: str = "2.00", cold_chain: bool = False, promise: int = 48) -> Carrier:
    c = Carrier.objects.create(code=code, name=code.upper(), licence_no=f"LIC-{code}",
                               licence_expires_on=timezone.localdate() + timedelta(days=365),
                               cold_chain=cold_chain, default_promise_hours=promise)
    CarrierCoverage.objects.create(carrier=c, province=province)
    CarrierRate.objects.create(carrier=c, province="", first_kg=Decimal(first_kg),
                               extra_kg=Decimal(extra_kg))
    return c
