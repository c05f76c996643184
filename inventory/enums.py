from django.db import models
from django.utils.translation import gettext_lazy as _


class LocationKind(models.TextChoices):
    WAREHOUSE = "warehouse", _("Warehouse")
    STORE = "store", _("Store")


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", _("Receipt")
    ADJUSTMENT = "adjustment", _("Adjustment")
    RESERVE = "reserve", _("Reserved for order")
    RELEASE = "release", _("Reservation released")
    CONSUME = "consume", _("Shipped (sold)")
    RETURN = "return", _("Returned")


class StockErrorCode(models.TextChoices):
    INSUFFICIENT_STOCK = "insufficient_stock", _("Not enough stock")
    NEGATIVE_STOCK = "negative_stock", _("Stock would go negative")
