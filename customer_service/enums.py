from django.db import models
from django.utils.translation import gettext_lazy as _


class ReturnKind(models.TextChoices):
    RETURN = "return", _("Return")
    EXCHANGE = "exchange", _("Exchange")


class ReturnStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    RECEIVED = "received", _("Goods received")
    REFUNDED = "refunded", _("Refunded")
    CLOSED = "closed", _("Closed")


NO_REASON_RETURN_DAYS = 7  # 002 五(二)1: 7 天无理由退货
