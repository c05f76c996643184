import math
from datetime import timedelta

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.utils import timezone

from inventory.enums import LocationKind
from inventory.models import Location
from inventory.selectors import stock_available_for_locations
from sales.enums import Fulfilment, OrderStatus
from sales.models import Channel, ChannelSkuBuffer, Order, OrderEvent, OrderLine


def _distance_km(lat1, lng1, lat2, lng2) -> float:
    lat1, lng1, lat2, lng2 = (math.radians(float(v)) for v in (lat1, lng1, lat2, lng2))
    a = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2)
    return 6371 * 2 * math.asin(math.sqrt(a))


def channel_locations(*, channel: Channel) -> list[Location]:
    """The channel's active serving locations, else every active location.
    A channel read by `partner_key_verify` carries them already."""
    locations = getattr(channel, "active_locations", None)
    if locations is None:
        locations = [loc for loc in channel.locations.all() if loc.is_active]
    if not locations:
        locations = list(Location.objects.filter(is_active=True))
    return locations


def serving_locations(*, locations: list[Location], fulfilment: str, city: str,
                      lat=None, lng=None) -> list[Location]:
    """Preference order for allocation (issue 3): for pickup and same-city
    delivery the stores of the order's city, nearest first, then the main
    warehouse; for express the main warehouse first. Other locations follow
    (a split may draw on them)."""

    def distance(loc: Location) -> float:
        if None in (lat, lng, loc.lat, loc.lng):
            return math.inf
        return _distance_km(lat, lng, loc.lat, loc.lng)

    local_stores = sorted((loc for loc in locations
                           if loc.kind == LocationKind.STORE and loc.city == city),
                          key=lambda loc: (distance(loc), loc.pk))
    main = [loc for loc in locations if loc.is_main_warehouse]
    rest = sorted((loc for loc in locations if loc not in local_stores and loc not in main),
                  key=lambda loc: (distance(loc), loc.pk))
    if fulfilment == Fulfilment.EXPRESS:
        return main + local_stores + rest
    return local_stores + main + rest


def orders_for_channel(*, channel: Channel) -> QuerySet[Order]:
    return (Order.objects.filter(channel=channel)
            .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("pk"))))


def orders_with_lines() -> QuerySet[Order]:
    return (Order.objects.select_related("channel", "customer")
            .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("pk"))))


def order_timeline(*, order: Order) -> QuerySet[OrderEvent]:
    return order.events.order_by("created_at", "pk")


def orders_past_review_deadline(*, now=None) -> QuerySet[Order]:
    now = now or timezone.now()
    return Order.objects.filter(
        status__in=[OrderStatus.PENDING_REVIEW, OrderStatus.EXCEPTION],
        review_deadline__lt=now, review_overdue_at__isnull=True)


def exception_queue() -> QuerySet[Order]:
    return orders_with_lines().filter(status=OrderStatus.EXCEPTION).order_by("review_deadline")


def channel_stock(*, channel: Channel):
    """Available-to-sell for the channel: its locations, less its buffers."""
    location_ids = [loc.pk for loc in channel_locations(channel=channel)]
    buffers = ChannelSkuBuffer.objects.filter(channel=channel, sku=OuterRef("pk")).values("buffer")
    return stock_available_for_locations(location_ids=location_ids,
                                         buffers_subquery=Subquery(buffers[:1]))


def recent_window(minutes: int):
    return timezone.now() - timedelta(minutes=minutes)
