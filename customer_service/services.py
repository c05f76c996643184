from datetime import timedelta

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from core.errors import DomainError
from customer_service.enums import NO_REASON_RETURN_DAYS, ReturnStatus
from customer_service.models import ReturnLine, ReturnRequest
from sales.enums import OrderErrorCode, OrderStatus
from sales.locks import order_lock
from sales.models import Order, OrderEvent

RETURNABLE = {OrderStatus.DELIVERED, OrderStatus.COMPLETED}


@transaction.atomic
def return_request_create(*, order: Order, kind: str, lines: list[tuple[str, int]],
                          reason: str = "", requested_by: str = "") -> ReturnRequest:
    """Record a return/exchange request for delivered goods. Quantities may
    not exceed what was bought less what is already being returned."""
    order = order_lock(order_id=order.pk)
    if order.status not in RETURNABLE:
        raise DomainError(f"order {order.number} is {order.status}; only delivered orders "
                          "can be returned", code=OrderErrorCode.NOT_RETURNABLE)
    order_lines = {line.sku_code: line for line in order.lines.all()}
    already = dict(ReturnLine.objects.filter(request__order=order)
                   .exclude(request__status=ReturnStatus.REJECTED)
                   .values_list("order_line_id").annotate(q=Sum("quantity")))
    errors: dict[str, list[str]] = {}
    wanted: list[tuple] = []
    for index, (sku, quantity) in enumerate(lines):
        line = order_lines.get(sku)
        if line is None:
            errors[f"lines.{index}.sku"] = ["not on this order"]
            continue
        left = line.quantity - already.get(line.pk, 0)
        if quantity > left:
            errors[f"lines.{index}.quantity"] = [f"at most {left} can still be returned"]
            continue
        wanted.append((line, quantity))
    if errors:
        raise DomainError("invalid return lines", code="invalid", status_code=400, fields=errors)
    delivered_at = (order.events.filter(to_status=OrderStatus.DELIVERED)
                    .values_list("created_at", flat=True).last()) or order.updated_at
    request = ReturnRequest.objects.create(
        order=order, kind=kind, reason=reason, requested_by=requested_by,
        within_no_reason_window=timezone.now() - delivered_at
        <= timedelta(days=NO_REASON_RETURN_DAYS))
    ReturnLine.objects.bulk_create(ReturnLine(request=request, order_line=line, quantity=qty)
                                   for line, qty in wanted)
    OrderEvent.objects.create(order=order, kind=f"{kind}_requested", actor_label=requested_by,
                              reason=reason[:255], data={"return_request": request.pk})
    return request


# --- follow-up tickets -----------------------------------------------------------------


def ticket_open(*, kind: str, subject: str, description: str = "", order=None,
                source_key: str | None = None, actor=None, actor_label: str = ""):
    """Open a follow-up ticket; with `source_key`, at most one per key (a
    second call returns the first ticket). Returns (ticket, created). Runs in
    the caller's transaction, so the ticket commits with what caused it."""
    from core.audit import audit_record
    from customer_service.models import Ticket, TicketEvent

    label = actor_label or getattr(actor, "username", "")
    with transaction.atomic():
        if source_key is not None:
            existing = Ticket.objects.filter(source_key=source_key).first()
            if existing is not None:
                return existing, False
        ticket = Ticket.objects.create(kind=kind, subject=subject[:200], description=description,
                                       order=order, source_key=source_key, opened_by=label)
        TicketEvent.objects.create(ticket=ticket, to_status=Ticket.Status.OPEN,
                                   actor=actor if getattr(actor, "pk", None) else None,
                                   actor_label=label, note=subject[:255])
        audit_record(actor=actor, actor_label=label, action="ticket.open", target=ticket,
                     data={"kind": kind, "source_key": source_key or ""})
    return ticket, True


@transaction.atomic
def ticket_transition(*, ticket, to_status: str, actor, note: str = ""):
    """Move a ticket along its transition map, with its timeline row."""
    from core.audit import audit_record
    from core.errors import InvalidTransition
    from customer_service.models import Ticket, TicketEvent

    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if to_status not in Ticket.TRANSITIONS[ticket.status]:
        raise InvalidTransition(f"ticket {ticket.pk} cannot go from {ticket.status} to "
                                f"{to_status}")
    old = ticket.status
    ticket.status = to_status
    ticket.resolved_at = (timezone.now() if to_status in (Ticket.Status.RESOLVED,
                                                          Ticket.Status.CLOSED)
                          else None)
    ticket.save(update_fields=["status", "resolved_at", "updated_at"])
    TicketEvent.objects.create(ticket=ticket, from_status=old, to_status=to_status,
                               actor=actor if getattr(actor, "pk", None) else None,
                               actor_label=getattr(actor, "username", ""), note=note[:255])
    audit_record(actor=actor, action=f"ticket.{to_status}", target=ticket, reason=note)
    return ticket
