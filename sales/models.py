from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.money import MoneyField
from sales.enums import (
    ChannelKind,
    ExceptionReason,
    Fulfilment,
    OrderStatus,
    Priority,
    WebhookStatus,
)


class Channel(models.Model):
    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=ChannelKind.choices)
    commission_rate = models.DecimalField(_("commission rate"), max_digits=5, decimal_places=4,
                                          default=0, help_text=_("e.g. 0.0500 for 5%"))
    fee_terms = models.TextField(_("fee terms"), blank=True)
    locations = models.ManyToManyField("inventory.Location", verbose_name=_("serving locations"),
                                       blank=True, related_name="channels")
    webhook_url = models.URLField(_("webhook URL"), blank=True)
    webhook_secret = models.CharField(_("webhook secret"), max_length=100, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class ChannelSkuBuffer(models.Model):
    """Stock held back from a channel's available-to-sell for one SKU."""

    channel = models.ForeignKey(Channel, verbose_name=_("channel"), on_delete=models.CASCADE,
                                related_name="buffers")
    sku = models.ForeignKey("inventory.Sku", verbose_name=_("SKU"), on_delete=models.CASCADE,
                            related_name="+")
    buffer = models.PositiveIntegerField(_("safety buffer"))

    class Meta:
        verbose_name = _("channel safety buffer")
        verbose_name_plural = _("channel safety buffers")
        constraints = [models.UniqueConstraint(fields=["channel", "sku"],
                                               name="channel_sku_buffer_unique")]

    def __str__(self) -> str:
        return f"{self.channel_id}/{self.sku_id}: {self.buffer}"


class PartnerApiKey(models.Model):
    """A partner's key: `rt_<prefix>_<secret>`; only a SHA-256 is stored."""

    channel = models.ForeignKey(Channel, verbose_name=_("channel"), on_delete=models.CASCADE,
                                related_name="api_keys")
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    hashed_key = models.CharField(_("key hash"), max_length=64)
    name = models.CharField(_("name"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("partner API key")
        verbose_name_plural = _("partner API keys")

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.prefix}"


class Store(models.Model):
    """A physical store (003 01 門店信息): also a stock location and pickup point."""

    location = models.OneToOneField("inventory.Location", verbose_name=_("stock location"),
                                    on_delete=models.PROTECT, related_name="store")
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=255)
    phone = models.CharField(_("phone"), max_length=30)
    opening_hours = models.CharField(_("opening hours"), max_length=100)
    introduction = models.TextField(_("introduction"), blank=True)
    is_pickup_point = models.BooleanField(_("pickup point"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("store")
        verbose_name_plural = _("stores")

    def __str__(self) -> str:
        return self.name


class StorePhoto(models.Model):
    store = models.ForeignKey(Store, verbose_name=_("store"), on_delete=models.CASCADE,
                              related_name="photos")
    image = models.ImageField(_("image"), upload_to="stores/")
    caption = models.CharField(_("caption"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("store photo")
        verbose_name_plural = _("store photos")

    def __str__(self) -> str:
        return self.caption or self.image.name


class Customer(models.Model):
    """As far as orders need one; one person across channels, keyed by phone."""

    name = models.CharField(_("name"), max_length=100)
    phone = models.CharField(_("phone"), max_length=30, unique=True)
    email = models.EmailField(_("email"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self) -> str:
        return f"{self.name} ({self.phone})"


class Order(models.Model):
    # Indexes here are weighed against intake speed (every order writes
    # them): `number` is unique through a constraint (no LIKE index), the
    # channel is the first column of two composite indexes, and `status`
    # has a plain index in Meta.
    number = models.CharField(_("number"), max_length=32)
    channel = models.ForeignKey(Channel, verbose_name=_("channel"), on_delete=models.PROTECT,
                                related_name="orders", db_index=False)
    external_id = models.CharField(_("external id"), max_length=64)
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT,
                                 related_name="orders")
    status = models.CharField(_("status"), max_length=20, choices=OrderStatus.choices,
                              default=OrderStatus.PENDING_REVIEW)
    exception_reason = models.CharField(_("exception reason"), max_length=30,
                                        choices=ExceptionReason.choices, blank=True)
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices,
                                default=Priority.NORMAL)
    fulfilment = models.CharField(_("fulfilment"), max_length=10, choices=Fulfilment.choices)
    pickup_store = models.ForeignKey(Store, verbose_name=_("pickup store"), null=True,
                                     blank=True, on_delete=models.PROTECT, related_name="+")
    province = models.CharField(_("province"), max_length=50)
    city = models.CharField(_("city"), max_length=50)
    district = models.CharField(_("district"), max_length=50)
    line1 = models.CharField(_("address"), max_length=255)
    lat = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True,
                              blank=True)
    window_start = models.DateTimeField(_("delivery window start"), null=True, blank=True)
    window_end = models.DateTimeField(_("delivery window end"), null=True, blank=True)
    subtotal = MoneyField(_("subtotal"))
    discount_total = MoneyField(_("discount"), default=0)
    total = MoneyField(_("total"))
    paid_amount = MoneyField(_("paid amount"))
    note = models.TextField(_("note"), blank=True)
    review_deadline = models.DateTimeField(_("review deadline"))
    review_overdue_at = models.DateTimeField(_("flagged overdue at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["number"], name="order_number_unique"),
            models.UniqueConstraint(fields=["channel", "external_id"],
                                    name="order_channel_external_id_unique"),
            models.CheckConstraint(condition=models.Q(total__gte=0), name="order_total_gte_0"),
            models.CheckConstraint(condition=models.Q(paid_amount__gte=0),
                                   name="order_paid_gte_0"),
        ]
        indexes = [
            models.Index(fields=["channel", "-created_at"]),
            models.Index(fields=["district", "line1", "created_at"]),
            models.Index(fields=["status"], name="order_status_idx"),
        ]
        permissions = [("resolve_exception", _("Can resolve order exceptions"))]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE,
                              related_name="lines")
    sku = models.ForeignKey("inventory.Sku", verbose_name=_("SKU"), on_delete=models.PROTECT,
                            related_name="+")
    sku_code = models.CharField(_("SKU code"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = MoneyField(_("unit price"))
    discount = MoneyField(_("discount"), default=0)
    line_total = MoneyField(_("line total"))

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["pk"]
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gt=0),
                                              name="order_line_quantity_gt_0")]

    def __str__(self) -> str:
        return f"{self.sku_code} × {self.quantity}"


class OrderAllocation(models.Model):
    """Stock reserved for an order at one location."""

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE,
                              related_name="allocations")
    sku = models.ForeignKey("inventory.Sku", verbose_name=_("SKU"), on_delete=models.PROTECT,
                            related_name="+")
    location = models.ForeignKey("inventory.Location", verbose_name=_("location"),
                                 on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        verbose_name = _("order allocation")
        verbose_name_plural = _("order allocations")

    def __str__(self) -> str:
        return f"{self.sku_id}@{self.location_id} × {self.quantity}"


class OrderEvent(models.Model):
    """The order's timeline: every status change and notable action."""

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE,
                              related_name="events")
    kind = models.CharField(_("kind"), max_length=40)
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20, blank=True)
    # Not indexed: nothing reads events by actor, and every order writes them.
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True,
                              blank=True, on_delete=models.PROTECT, related_name="+",
                              db_index=False)
    actor_label = models.CharField(_("by"), max_length=150, blank=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind}"


class IdempotencyKey(models.Model):
    """A partner request's key and stored reply (kept ≥ 24 h)."""

    # The (channel, key) unique index serves look-ups by channel.
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+",
                                db_index=False)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.TextField()  # the exact JSON sent, replayed byte for byte
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [models.UniqueConstraint(fields=["channel", "key"],
                                               name="idempotency_channel_key_unique")]

    def __str__(self) -> str:
        return self.key


class WebhookDelivery(models.Model):
    """Outbox: written in the order's transaction, delivered by Celery."""

    channel = models.ForeignKey(Channel, verbose_name=_("channel"), on_delete=models.CASCADE,
                                related_name="+")
    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE,
                              related_name="webhooks", null=True, blank=True,
                              help_text=_("Empty for channel-level events (stock changes)."))
    event = models.CharField(_("event"), max_length=40)
    payload = models.JSONField(_("payload"))
    status = models.CharField(_("status"), max_length=20, choices=WebhookStatus.choices,
                              default=WebhookStatus.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), db_index=True)
    last_error = models.CharField(_("last error"), max_length=255, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.event} → {self.channel_id}"


class OrderExceptionQueue(Order):
    """The exception queue (订单异常队列): orders waiting for a person,
    oldest review deadline first. A proxy, so it has its own admin screen and
    permissions."""

    class Meta:
        proxy = True
        verbose_name = _("order exception")
        verbose_name_plural = _("order exception queue")
        ordering = ["review_deadline", "pk"]
