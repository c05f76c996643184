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


# --- follow-up tickets (opened by delivery: failed/refused deliveries, stalled shipments) ---

from django.conf import settings  # noqa: E402


class Ticket(models.Model):
    """A customer-service follow-up (000 客戶咨詢與投訴處理). Other departments
    open one through `customer_service.services.ticket_open`; `source_key`
    makes that idempotent (one ticket per failed delivery, per stall)."""

    class Kind(models.TextChoices):
        DELIVERY_FAILED = "delivery_failed", _("Failed delivery")
        DELIVERY_REFUSED = "delivery_refused", _("Refused delivery")
        SHIPMENT_STALLED = "shipment_stalled", _("Stalled shipment")
        COMPLAINT = "complaint", _("Complaint")
        CONSULTATION = "consultation", _("Consultation")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        IN_PROGRESS = "in_progress", _("In progress")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    TRANSITIONS = {
        Status.OPEN: {Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED},
        Status.IN_PROGRESS: {Status.RESOLVED, Status.CLOSED},
        Status.RESOLVED: {Status.IN_PROGRESS, Status.CLOSED},
        Status.CLOSED: set(),
    }

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices,
                              default=Status.OPEN, db_index=True)
    order = models.ForeignKey("sales.Order", verbose_name=_("order"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="tickets")
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    source_key = models.CharField(_("source"), max_length=100, null=True, blank=True,
                                  unique=True, editable=False,
                                  help_text=_("What opened it, e.g. delivery:12:failed."))
    opened_by = models.CharField(_("opened by"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"


class TicketEvent(models.Model):
    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE,
                               related_name="events")
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True,
                              blank=True, on_delete=models.PROTECT, related_name="+")
    actor_label = models.CharField(_("by"), max_length=150, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.ticket_id} → {self.to_status}"
