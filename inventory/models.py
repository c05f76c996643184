from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.money import MoneyField
from inventory.enums import (
    AlertKind,
    AlertStatus,
    LocationKind,
    MovementKind,
    PolicyMethod,
    PurchaseStatus,
    StocktakeStatus,
    SuggestionKind,
    SuggestionStatus,
    TransferStatus,
)

# --- catalogue and listings (002 二(三)1-2) -------------------------------------------


class Category(models.Model):
    """A node of the category tree. `path` is the chain of codes from the root
    ("/apparel/tops/"), kept by `listings.category_save`, so a subtree is one
    prefix match and a category's required attributes include its ancestors'."""

    parent = models.ForeignKey("self", verbose_name=_("parent category"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="children")
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    path = models.CharField(_("path"), max_length=400, unique=True, editable=False)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="category_name_unique"),
            models.CheckConstraint(condition=~Q(parent=F("id")), name="category_not_own_parent"),
        ]

    def __str__(self) -> str:
        return self.name


class CategoryAttribute(models.Model):
    """An attribute products of the category (and its subtree) must fill in
    (002 二(三)1(3) 屬性完善)."""

    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.CASCADE,
                                 related_name="attributes")
    name = models.CharField(_("attribute"), max_length=50)
    is_required = models.BooleanField(_("required"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("category attribute")
        verbose_name_plural = _("category attributes")
        ordering = ["category", "position", "name"]
        constraints = [models.UniqueConstraint(fields=["category", "name"],
                                               name="category_attribute_unique")]

    def __str__(self) -> str:
        return self.name


class Keyword(models.Model):
    """A search keyword / tag (002 二(三)1(2) 標籤優化)."""

    word = models.CharField(_("keyword"), max_length=50, unique=True)

    class Meta:
        verbose_name = _("keyword")
        verbose_name_plural = _("keywords")
        ordering = ["word"]

    def __str__(self) -> str:
        return self.word


class Product(models.Model):
    code = models.CharField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    # The top-level category's name, kept in step with `category_node` by the
    # listing services (the staff API and older data filter on it).
    category = models.CharField(_("category name"), max_length=100, blank=True)
    category_node = models.ForeignKey(Category, verbose_name=_("category"), null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="products")
    title = models.CharField(_("listing title"), max_length=200, blank=True,
                             help_text=_("Shown on the channels; the name is used when empty. "
                                         "Should contain one of the keywords."))
    keywords = models.ManyToManyField(Keyword, verbose_name=_("keywords"), blank=True,
                                      related_name="products")
    attributes = models.JSONField(_("product attributes"), default=dict, blank=True,
                                  help_text=_("Attribute name → value, e.g. {\"材质\": \"棉\"}."))
    description = models.TextField(_("description"), blank=True)
    video_url = models.URLField(_("video URL"), max_length=500, blank=True)
    price = MoneyField(_("list price"))
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def listing_title(self) -> str:
        return self.title or self.name


class ProductImage(models.Model):
    """A listing image: an uploaded file or the URL of one hosted elsewhere."""

    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.CASCADE,
                                related_name="images")
    image = models.ImageField(_("image file"), upload_to="products/", blank=True)
    url = models.URLField(_("image URL"), max_length=500, blank=True)
    alt_text = models.CharField(_("alt text"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("product image")
        verbose_name_plural = _("product images")
        ordering = ["product", "position", "pk"]
        constraints = [models.CheckConstraint(condition=~Q(image="") | ~Q(url=""),
                                              name="product_image_has_source")]

    def __str__(self) -> str:
        return self.url or self.image.name


class Sku(models.Model):
    """A sellable variant of a product (colour, size…)."""

    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT,
                                related_name="skus")
    code = models.CharField(_("SKU code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    attributes = models.JSONField(_("variant attributes"), default=dict, blank=True)
    price = MoneyField(_("price"))
    unit_cost = MoneyField(_("unit cost"), default=0,
                           help_text=_("Purchase cost per unit; values the stock."))
    weight_grams = models.PositiveIntegerField(_("weight (g)"), default=500)
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("SKU")
        verbose_name_plural = _("SKUs")
        ordering = ["code"]
        constraints = [models.CheckConstraint(condition=Q(unit_cost__gte=0),
                                              name="sku_unit_cost_gte_0")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Location(models.Model):
    """A place that holds stock: a warehouse or a store."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=LocationKind.choices)
    is_main_warehouse = models.BooleanField(_("main warehouse"), default=False)
    province = models.CharField(_("province"), max_length=50, blank=True)
    city = models.CharField(_("city"), max_length=50, blank=True)
    district = models.CharField(_("district"), max_length=50, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    lat = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True,
                              blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("stock location")
        verbose_name_plural = _("stock locations")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["is_main_warehouse"],
                                    condition=Q(is_main_warehouse=True),
                                    name="one_main_warehouse"),
        ]

    def __str__(self) -> str:
        return self.name


# --- the book and the ledger -----------------------------------------------------------


class StockLevel(models.Model):
    """The book per SKU-location, kept equal to the sum of the ledger by the
    stock services (`check_stock_ledger` proves it).

    `on_hand` is sellable stock on the shelf (of which `reserved` awaits
    shipment); `in_transit` is on its way here on a transfer; `returned`
    came back from customers and awaits inspection; `quarantine` is damaged
    or held. Sold stock has left the book: its record is the ledger's
    `consume` movements (002 二(三)3(2) 庫存分區)."""

    # Indexes weighed against order intake, which updates three rows per
    # order: the (sku, location) unique index serves look-ups by SKU, and
    # `updated_at` is not indexed so those updates stay HOT.
    sku = models.ForeignKey(Sku, verbose_name=_("SKU"), on_delete=models.PROTECT,
                            related_name="levels", db_index=False)
    location = models.ForeignKey(Location, verbose_name=_("location"), on_delete=models.PROTECT,
                                 related_name="levels")
    on_hand = models.IntegerField(_("on hand"), default=0)
    reserved = models.IntegerField(_("reserved"), default=0)
    in_transit = models.IntegerField(_("in transit"), default=0)
    returned = models.IntegerField(_("returned, awaiting inspection"), default=0)
    quarantine = models.IntegerField(_("quarantine"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        constraints = [
            models.UniqueConstraint(fields=["sku", "location"], name="stock_level_unique"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stock_on_hand_gte_0"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stock_reserved_gte_0"),
            models.CheckConstraint(condition=Q(reserved__lte=F("on_hand")),
                                   name="stock_reserved_lte_on_hand"),
            models.CheckConstraint(condition=Q(in_transit__gte=0),
                                   name="stock_in_transit_gte_0"),
            models.CheckConstraint(condition=Q(returned__gte=0), name="stock_returned_gte_0"),
            models.CheckConstraint(condition=Q(quarantine__gte=0),
                                   name="stock_quarantine_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.sku_id}@{self.location_id}"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class StockMovement(models.Model):
    """Append-only ledger. The deltas of a SKU-location sum to its book."""

    # Every order appends movements: SKU look-ups use the (sku, location,
    # created_at) index, and nothing reads movements by actor.
    sku = models.ForeignKey(Sku, verbose_name=_("SKU"), on_delete=models.PROTECT,
                            related_name="+", db_index=False)
    location = models.ForeignKey(Location, verbose_name=_("location"), on_delete=models.PROTECT,
                                 related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=MovementKind.choices)
    on_hand_delta = models.IntegerField(_("on-hand change"), default=0)
    reserved_delta = models.IntegerField(_("reserved change"), default=0)
    in_transit_delta = models.IntegerField(_("in-transit change"), default=0)
    returned_delta = models.IntegerField(_("returned change"), default=0)
    quarantine_delta = models.IntegerField(_("quarantine change"), default=0)
    order = models.ForeignKey("sales.Order", verbose_name=_("order"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(_("document"), max_length=40, blank=True,
                                 help_text=_("Transfer, stocktake or purchase number."))
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True,
                              blank=True, on_delete=models.PROTECT, related_name="+",
                              db_index=False)
    created_at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["sku", "location", "created_at"]),
            # Sales history (trend, turnover, days of cover) reads only these.
            models.Index(fields=["location", "sku", "created_at"], condition=Q(kind="consume"),
                         name="movement_consume_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.sku_id}@{self.location_id} {self.on_hand_delta:+}"


# --- transfers between locations ---------------------------------------------------------


class TransferOrder(models.Model):
    number = models.CharField(_("number"), max_length=32, unique=True)
    source = models.ForeignKey(Location, verbose_name=_("from"), on_delete=models.PROTECT,
                               related_name="transfers_out")
    destination = models.ForeignKey(Location, verbose_name=_("to"), on_delete=models.PROTECT,
                                    related_name="transfers_in")
    status = models.CharField(_("status"), max_length=12, choices=TransferStatus.choices,
                              default=TransferStatus.DRAFT, db_index=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"),
                                   null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)

    class Meta:
        verbose_name = _("transfer order")
        verbose_name_plural = _("transfer orders")
        ordering = ["-created_at", "-pk"]
        constraints = [models.CheckConstraint(condition=~Q(source=F("destination")),
                                              name="transfer_source_not_destination")]

    def __str__(self) -> str:
        return self.number


class TransferLine(models.Model):
    transfer = models.ForeignKey(TransferOrder, verbose_name=_("transfer order"),
                                 on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey(Sku, verbose_name=_("SKU"), on_delete=models.PROTECT,
                            related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"))
    received_quantity = models.PositiveIntegerField(_("received quantity"), null=True,
                                                    blank=True)

    class Meta:
        verbose_name = _("transfer line")
        verbose_name_plural = _("transfer lines")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["transfer", "sku"], name="transfer_line_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="transfer_line_qty_gt_0"),
            models.CheckConstraint(condition=Q(received_quantity__lte=F("quantity")),
                                   name="transfer_received_lte_sent"),
        ]

    def __str__(self) -> str:
        return f"{self.sku_id} × {self.quantity}"


# --- stocktake (盤點, 001 第六章 4) ---------------------------------------------------------


class Stocktake(models.Model):
    """A count of one location (all SKUs or one category's subtree). The book
    is frozen per line when the count starts; variances are against it."""

    number = models.CharField(_("number"), max_length=32, unique=True)
    location = models.ForeignKey(Location, verbose_name=_("location"), on_delete=models.PROTECT,
                                 related_name="stocktakes")
    category = models.ForeignKey(Category, verbose_name=_("category"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+",
                                 help_text=_("Empty: every SKU stocked at the location."))
    status = models.CharField(_("status"), max_length=12, choices=StocktakeStatus.choices,
                              default=StocktakeStatus.COUNTING, db_index=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    frozen_at = models.DateTimeField(_("book frozen at"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"),
                                   null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    posted_at = models.DateTimeField(_("posted at"), null=True, blank=True)
    posted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("approved by"),
                                  null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")

    class Meta:
        verbose_name = _("stocktake")
        verbose_name_plural = _("stocktakes")
        ordering = ["-frozen_at", "-pk"]
        permissions = [("approve_stocktake", _("Can approve stocktakes and post adjustments"))]

    def __str__(self) -> str:
        return self.number


class StocktakeLine(models.Model):
    stocktake = models.ForeignKey(Stocktake, verbose_name=_("stocktake"),
                                  on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey(Sku, verbose_name=_("SKU"), on_delete=models.PROTECT,
                            related_name="+")
    book_quantity = models.IntegerField(_("book at freeze"))
    counted_quantity = models.PositiveIntegerField(_("counted"), null=True, blank=True)
    counted_at = models.DateTimeField(_("counted at"), null=True, blank=True)
    posted_delta = models.IntegerField(_("posted adjustment"), null=True, blank=True)

    class Meta:
        verbose_name = _("count line")
        verbose_name_plural = _("count lines")
        ordering = ["sku__code"]
        constraints = [models.UniqueConstraint(fields=["stocktake", "sku"],
                                               name="stocktake_line_unique")]

    def __str__(self) -> str:
        return f"{self.sku_id}: {self.counted_quantity}/{self.book_quantity}"

    @property
    def variance(self) -> int | None:
        if self.counted_quantity is None:
            return None
        return self.counted_quantity - self.book_quantity


# --- safety stock, alerts and replenishment (003 04 庫存預警機制, 補貨機制) ------------------


class StockPolicy(models.Model):
    """Safety stock and reorder point of one SKU-location: set by hand, or
    computed from the last `history_weeks` of sales and the lead time."""

    sku = models.ForeignKey(Sku, verbose_name=_("SKU"), on_delete=models.CASCADE,
                            related_name="policies")
    location = models.ForeignKey(Location, verbose_name=_("location"), on_delete=models.CASCADE,
                                 related_name="policies")
    method = models.CharField(_("method"), max_length=10, choices=PolicyMethod.choices,
                              default=PolicyMethod.MANUAL)
    safety_stock = models.PositiveIntegerField(_("safety stock"), default=0)
    reorder_point = models.PositiveIntegerField(_("reorder point"), default=0)
    lead_time_days = models.PositiveSmallIntegerField(_("lead time (days)"), default=7)
    review_days = models.PositiveSmallIntegerField(
        _("review period (days)"), default=7,
        help_text=_("How many days a replenishment should cover beyond the lead time."))
    history_weeks = models.PositiveSmallIntegerField(_("weeks of sales history"), default=8)
    avg_daily_sales = models.DecimalField(_("average daily sales"), max_digits=10,
                                          decimal_places=3, default=0)
    computed_at = models.DateTimeField(_("computed at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("safety stock and reorder point")
        verbose_name_plural = _("safety stock and reorder points")
        ordering = ["location", "sku"]
        constraints = [
            models.UniqueConstraint(fields=["sku", "location"], name="stock_policy_unique"),
            models.CheckConstraint(condition=Q(reorder_point__gte=F("safety_stock")),
                                   name="policy_reorder_point_gte_safety"),
            models.CheckConstraint(condition=Q(history_weeks__gte=1) & Q(history_weeks__lte=52),
                                   name="policy_history_weeks_1_52"),
        ]

    def __str__(self) -> str:
        return f"{self.sku_id}@{self.location_id}: {self.safety_stock}/{self.reorder_point}"


class StockAlert(models.Model):
    """Low-stock or stock-out alert; at most one open per SKU-location."""

    sku = models.ForeignKey(Sku, verbose_name=_("SKU"), on_delete=models.CASCADE,
                            related_name="alerts")
    location = models.ForeignKey(Location, verbose_name=_("location"), on_delete=models.CASCADE,
                                 related_name="alerts")
    kind = models.CharField(_("kind"), max_length=15, choices=AlertKind.choices)
    status = models.CharField(_("status"), max_length=10, choices=AlertStatus.choices,
                              default=AlertStatus.OPEN)
    available = models.IntegerField(_("available when last checked"))
    reorder_point = models.PositiveIntegerField(_("reorder point"))
    opened_at = models.DateTimeField(_("opened at"))
    checked_at = models.DateTimeField(_("last checked at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("stock alert")
        verbose_name_plural = _("stock alerts")
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["sku", "location"], condition=Q(status="open"),
                                    name="one_open_alert_per_sku_location"),
            models.CheckConstraint(condition=Q(status="open", closed_at__isnull=True)
                                   | Q(status="closed", closed_at__isnull=False),
                                   name="alert_closed_at_iff_closed"),
        ]
        indexes = [models.Index(fields=["status", "location"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.sku_id}@{self.location_id}"


class PurchaseRequest(models.Model):
    number = models.CharField(_("number"), max_length=32, unique=True)
    location = models.ForeignKey(Location, verbose_name=_("deliver to"),
                                 on_delete=models.PROTECT, related_name="purchase_requests")
    status = models.CharField(_("status"), max_length=12, choices=PurchaseStatus.choices,
                              default=PurchaseStatus.REQUESTED, db_index=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"),
                                   null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    ordered_at = models.DateTimeField(_("ordered at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)

    class Meta:
        verbose_name = _("purchase request")
        verbose_name_plural = _("purchase requests")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.number


class PurchaseRequestLine(models.Model):
    request = models.ForeignKey(PurchaseRequest, verbose_name=_("purchase request"),
                                on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey(Sku, verbose_name=_("SKU"), on_delete=models.PROTECT,
                            related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"))
    received_quantity = models.PositiveIntegerField(_("received quantity"), null=True,
                                                    blank=True)

    class Meta:
        verbose_name = _("purchase request line")
        verbose_name_plural = _("purchase request lines")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["request", "sku"], name="purchase_line_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="purchase_line_qty_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.sku_id} × {self.quantity}"


class ReplenishmentSuggestion(models.Model):
    """Drafted by `inventory_alerts` from the sales trend and the lead time;
    a buyer approves it into a purchase request or a transfer order."""

    sku = models.ForeignKey(Sku, verbose_name=_("SKU"), on_delete=models.CASCADE,
                            related_name="suggestions")
    location = models.ForeignKey(Location, verbose_name=_("location"), on_delete=models.CASCADE,
                                 related_name="suggestions")
    kind = models.CharField(_("kind"), max_length=10, choices=SuggestionKind.choices)
    source = models.ForeignKey(Location, verbose_name=_("transfer from"), null=True, blank=True,
                               on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"))
    available = models.IntegerField(_("available"))
    in_transit = models.IntegerField(_("in transit"))
    avg_daily_sales = models.DecimalField(_("average daily sales"), max_digits=10,
                                          decimal_places=3)
    trend = models.DecimalField(_("sales trend"), max_digits=5, decimal_places=2,
                                help_text=_("Recent weeks against earlier weeks (1.00 = flat)."))
    lead_time_days = models.PositiveSmallIntegerField(_("lead time (days)"))
    status = models.CharField(_("status"), max_length=10, choices=SuggestionStatus.choices,
                              default=SuggestionStatus.DRAFT)
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("decided by"),
                                   null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    transfer = models.ForeignKey(TransferOrder, verbose_name=_("transfer order"), null=True,
                                 blank=True, on_delete=models.SET_NULL, related_name="+")
    purchase_request = models.ForeignKey(PurchaseRequest, verbose_name=_("purchase request"),
                                         null=True, blank=True, on_delete=models.SET_NULL,
                                         related_name="+")

    class Meta:
        verbose_name = _("replenishment suggestion")
        verbose_name_plural = _("replenishment suggestions")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["sku", "location"], condition=Q(status="draft"),
                                    name="one_draft_suggestion_per_sku_location"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="suggestion_qty_gt_0"),
            models.CheckConstraint(condition=Q(kind="purchase", source__isnull=True)
                                   | Q(kind="transfer", source__isnull=False),
                                   name="suggestion_transfer_has_source"),
        ]
        permissions = [("approve_replenishment",
                        _("Can approve replenishment suggestions (buyer)"))]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.sku_id}@{self.location_id} × {self.quantity}"


# --- channel stock sync (002 二(三)3(3)) ---------------------------------------------------


class ChannelStockSnapshot(models.Model):
    """The available-to-sell last pushed to a channel for a SKU; the sync job
    pushes again only when the figure changes materially."""

    channel = models.ForeignKey("sales.Channel", verbose_name=_("channel"),
                                on_delete=models.CASCADE, related_name="+")
    sku = models.ForeignKey(Sku, verbose_name=_("SKU"), on_delete=models.CASCADE,
                            related_name="+")
    available = models.IntegerField(_("available to sell (last pushed)"))
    pushed_at = models.DateTimeField(_("pushed at"))

    class Meta:
        verbose_name = _("channel stock snapshot")
        verbose_name_plural = _("channel stock snapshots")
        constraints = [models.UniqueConstraint(fields=["channel", "sku"],
                                               name="channel_stock_snapshot_unique")]

    def __str__(self) -> str:
        return f"{self.channel_id}/{self.sku_id}: {self.available}"


class OpeningStock(StockLevel):
    """Proxy for the opening-stock import/export screen."""

    class Meta:
        proxy = True
        verbose_name = _("opening stock")
        verbose_name_plural = _("opening stock (import)")
