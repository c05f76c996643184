from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class LocationKind(models.TextChoices):
    WAREHOUSE = "warehouse", _("Warehouse")
    STORE = "store", _("Store")


class MovementKind(models.TextChoices):
    """What a ledger line records. Each kind moves units between the stock
    states of one SKU-location (see `services.KIND_STATES`)."""

    RECEIPT = "receipt", _("Receipt")
    OPENING = "opening", _("Opening stock")
    ADJUSTMENT = "adjustment", _("Adjustment")
    RESERVE = "reserve", _("Reserved for order")
    RELEASE = "release", _("Reservation released")
    CONSUME = "consume", _("Shipped (sold)")
    RETURN = "return", _("Returned")
    TRANSFER_OUT = "transfer_out", _("Sent on transfer")
    TRANSFER_INBOUND = "transfer_inbound", _("Transfer on its way in")
    TRANSFER_RECEIVED = "transfer_received", _("Transfer received")
    TRANSFER_LOSS = "transfer_loss", _("Short on transfer receipt")
    RETURN_RECEIVED = "return_received", _("Return received, awaiting inspection")
    RETURN_RESTOCKED = "return_restocked", _("Return inspected: back to stock")
    RETURN_QUARANTINED = "return_quarantined", _("Return inspected: damaged")
    QUARANTINE = "quarantine", _("Moved to quarantine")
    QUARANTINE_RELEASED = "quarantine_released", _("Released from quarantine")
    WRITE_OFF = "write_off", _("Written off")
    STOCKTAKE = "stocktake", _("Stocktake adjustment")


class StockState(models.TextChoices):
    """The columns of the book (StockLevel) and their ledger deltas."""

    ON_HAND = "on_hand", _("On hand")
    RESERVED = "reserved", _("Reserved")
    IN_TRANSIT = "in_transit", _("In transit (inbound)")
    RETURNED = "returned", _("Returned, awaiting inspection")
    QUARANTINE = "quarantine", _("Quarantine / damaged")


class StockErrorCode(models.TextChoices):
    INSUFFICIENT_STOCK = "insufficient_stock", _("Not enough stock")
    NEGATIVE_STOCK = "negative_stock", _("Stock would go negative")
    INVALID_QUANTITY = "invalid_quantity", _("Invalid quantity")
    HAS_HISTORY = "has_stock_history", _("This SKU-location already has stock history")


class TransferStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("transfer status", "Draft")
    SENT = "sent", pgettext_lazy("transfer status", "In transit")
    RECEIVED = "received", pgettext_lazy("transfer status", "Received")
    CANCELLED = "cancelled", pgettext_lazy("transfer status", "Cancelled")


TRANSFER_TRANSITIONS: dict[str, set[str]] = {
    TransferStatus.DRAFT: {TransferStatus.SENT, TransferStatus.CANCELLED},
    TransferStatus.SENT: {TransferStatus.RECEIVED},
    TransferStatus.RECEIVED: set(),
    TransferStatus.CANCELLED: set(),
}


class StocktakeStatus(models.TextChoices):
    COUNTING = "counting", pgettext_lazy("stocktake status", "Counting")
    SUBMITTED = "submitted", pgettext_lazy("stocktake status", "Awaiting approval")
    POSTED = "posted", pgettext_lazy("stocktake status", "Posted")
    CANCELLED = "cancelled", pgettext_lazy("stocktake status", "Cancelled")


STOCKTAKE_TRANSITIONS: dict[str, set[str]] = {
    StocktakeStatus.COUNTING: {StocktakeStatus.SUBMITTED, StocktakeStatus.CANCELLED},
    StocktakeStatus.SUBMITTED: {StocktakeStatus.COUNTING, StocktakeStatus.POSTED,
                                StocktakeStatus.CANCELLED},
    StocktakeStatus.POSTED: set(),
    StocktakeStatus.CANCELLED: set(),
}


class PolicyMethod(models.TextChoices):
    MANUAL = "manual", pgettext_lazy("stock policy method", "Set by hand")
    COMPUTED = "computed", pgettext_lazy("stock policy method", "Computed from sales")


class AlertKind(models.TextChoices):
    LOW_STOCK = "low_stock", _("Low stock")
    OUT_OF_STOCK = "out_of_stock", _("Out of stock")


class AlertStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("alert status", "Open")
    CLOSED = "closed", pgettext_lazy("alert status", "Closed")


class SuggestionKind(models.TextChoices):
    PURCHASE = "purchase", pgettext_lazy("replenishment", "Purchase")
    TRANSFER = "transfer", pgettext_lazy("replenishment", "Transfer")


class SuggestionStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("suggestion status", "Awaiting a buyer")
    APPROVED = "approved", pgettext_lazy("suggestion status", "Approved")
    DISMISSED = "dismissed", pgettext_lazy("suggestion status", "Dismissed")


SUGGESTION_TRANSITIONS: dict[str, set[str]] = {
    SuggestionStatus.DRAFT: {SuggestionStatus.APPROVED, SuggestionStatus.DISMISSED},
    SuggestionStatus.APPROVED: set(),
    SuggestionStatus.DISMISSED: set(),
}


class PurchaseStatus(models.TextChoices):
    REQUESTED = "requested", pgettext_lazy("purchase status", "Requested")
    ORDERED = "ordered", pgettext_lazy("purchase status", "Ordered")
    RECEIVED = "received", pgettext_lazy("purchase status", "Received")
    CANCELLED = "cancelled", pgettext_lazy("purchase status", "Cancelled")


PURCHASE_TRANSITIONS: dict[str, set[str]] = {
    PurchaseStatus.REQUESTED: {PurchaseStatus.ORDERED, PurchaseStatus.CANCELLED},
    PurchaseStatus.ORDERED: {PurchaseStatus.RECEIVED, PurchaseStatus.CANCELLED},
    PurchaseStatus.RECEIVED: set(),
    PurchaseStatus.CANCELLED: set(),
}


class InventoryErrorCode(models.TextChoices):
    INVALID_TRANSITION = "invalid_transition", _("Not allowed in this status")
    SAME_LOCATION = "same_location", _("Source and destination are the same")
    EMPTY_DOCUMENT = "empty_document", _("The document has no lines")
    UNCOUNTED_LINES = "uncounted_lines", _("Some lines have no count yet")
    NOT_ON_SHEET = "not_on_count_sheet", _("The SKU is not on this count sheet")
    CATEGORY_CYCLE = "category_cycle", _("A category cannot sit under itself")
