from django.db import models
from django.utils.translation import gettext_lazy as _


class ChannelKind(models.TextChoices):
    MARKETPLACE = "marketplace", _("Marketplace")
    OWN_SHOP = "own_shop", _("Own web shop / mini-program")
    SOCIAL = "social", _("Social")
    LOCAL_LIFE = "local_life", _("Local-life platform")
    STORE_POS = "store_pos", _("Store POS")


class OrderStatus(models.TextChoices):
    PENDING_REVIEW = "pending_review", _("Pending review")
    CONFIRMED = "confirmed", _("Confirmed")
    PICKING = "picking", _("Picking")
    PACKED = "packed", _("Packed")
    DISPATCHED = "dispatched", _("Dispatched")
    DELIVERED = "delivered", _("Delivered")
    COMPLETED = "completed", _("Completed")
    EXCEPTION = "exception", _("Exception")
    CANCELLED = "cancelled", _("Cancelled")
    RETURNED = "returned", _("Returned")


S = OrderStatus
# The order state machine (SPEC §9). Anything not listed is refused.
ORDER_TRANSITIONS: dict[str, set[str]] = {
    S.PENDING_REVIEW: {S.CONFIRMED, S.EXCEPTION, S.CANCELLED},
    S.EXCEPTION: {S.CONFIRMED, S.EXCEPTION, S.CANCELLED},
    S.CONFIRMED: {S.PICKING, S.CANCELLED},
    S.PICKING: {S.PACKED, S.CANCELLED},
    S.PACKED: {S.DISPATCHED, S.CANCELLED},
    S.DISPATCHED: {S.DELIVERED, S.RETURNED},
    S.DELIVERED: {S.COMPLETED, S.RETURNED},
    S.COMPLETED: {S.RETURNED},
    S.CANCELLED: set(),
    S.RETURNED: set(),
}
# Stock is reserved while an order is in one of these.
RESERVED_STATUSES = {S.CONFIRMED, S.PICKING, S.PACKED}


class ExceptionReason(models.TextChoices):
    INSUFFICIENT_STOCK = "insufficient_stock", _("Insufficient stock")
    PAYMENT_MISMATCH = "payment_mismatch", _("Paid amount differs from total")
    ADDRESS_OUT_OF_AREA = "address_out_of_area", _("Address outside the same-city area")
    POSSIBLE_DUPLICATE = "possible_duplicate", _("Possible duplicate order")
    FRAUD_SUSPECTED = "fraud_suspected", _("Fraud suspected")


class Fulfilment(models.TextChoices):
    DELIVERY = "delivery", _("Same-city delivery (own fleet)")
    EXPRESS = "express", _("Express carrier")
    PICKUP = "pickup", _("Store pickup")


class Priority(models.TextChoices):
    URGENT = "urgent", _("Urgent")
    MEMBER = "member", _("Member priority")
    NORMAL = "normal", _("Normal")


class OrderErrorCode(models.TextChoices):
    NOT_CANCELLABLE = "order_not_cancellable", _("The order can no longer be cancelled")
    INVALID_TRANSITION = "invalid_transition", _("That status change is not allowed")
    NOT_RETURNABLE = "order_not_returnable", _("The order cannot be returned now")
    IDEMPOTENCY_KEY_REQUIRED = "idempotency_key_required", _("Idempotency-Key header required")
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused", _("Idempotency-Key used with another body")
    REQUEST_IN_PROGRESS = "request_in_progress", _("The same request is still being processed")


class WebhookStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed (gave up)")
