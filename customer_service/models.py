from django.db import models
from django.utils.translation import gettext_lazy as _

from customer_service.enums import ReturnKind, ReturnStatus


class ReturnRequest(models.Model):
    """A customer's return or exchange request (002 五(二)1; 003 04 退換貨).

    Approval, inspection, refund and restock arrive with the customer-service
    capability; intake (from partners and staff) starts here."""

    order = models.ForeignKey("sales.Order", verbose_name=_("order"), on_delete=models.PROTECT,
                              related_name="return_requests")
    kind = models.CharField(_("kind"), max_length=10, choices=ReturnKind.choices)
    status = models.CharField(_("status"), max_length=12, choices=ReturnStatus.choices,
                              default=ReturnStatus.REQUESTED)
    reason = models.TextField(_("reason"), blank=True)
    within_no_reason_window = models.BooleanField(_("within 7-day no-reason window"))
    requested_by = models.CharField(_("requested by"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("return request")
        verbose_name_plural = _("return requests")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.order_id}"


class ReturnLine(models.Model):
    request = models.ForeignKey(ReturnRequest, verbose_name=_("return request"),
                                on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey("sales.OrderLine", verbose_name=_("order line"),
                                   on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        verbose_name = _("return line")
        verbose_name_plural = _("return lines")
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gt=0),
                                              name="return_line_quantity_gt_0")]

    def __str__(self) -> str:
        return f"{self.order_line_id} × {self.quantity}"
