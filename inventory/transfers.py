"""Transfer orders between locations: draft → sent (stock leaves the source's
on hand and is in transit to the destination) → received (in transit becomes
on hand; a shortfall is booked as lost in transit). Each step is one
transaction that locks the transfer, then the stock rows in pk order."""

import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.errors import DomainError, InvalidTransition
from inventory.enums import (
    TRANSFER_TRANSITIONS,
    InventoryErrorCode,
    MovementKind,
    StockErrorCode,
    TransferStatus,
)
from inventory.locks import transfer_lock
from inventory.models import Location, Sku, TransferLine, TransferOrder
from inventory.services import Delta, InsufficientStock, levels_locked, stock_post


def document_number(prefix: str) -> str:
    return f"{prefix}{timezone.localdate():%y%m%d}{secrets.token_hex(3).upper()}"


def transfer_draft_saved(*, transfer: TransferOrder, actor, created: bool) -> None:
    """Record a draft transfer written through the staff screens (header and
    lines are saved by the form; this is its audit row)."""
    lines = {line.sku.code: line.quantity for line in transfer.lines.select_related("sku")}
    audit_record(actor=actor, action="transfer.create" if created else "transfer.edit",
                 target=transfer, data={"lines": lines})


def _check(transfer: TransferOrder, to_status: str) -> None:
    if to_status not in TRANSFER_TRANSITIONS[transfer.status]:
        raise InvalidTransition(
            _("Transfer %(number)s is %(status)s and cannot become %(to)s.") % {
                "number": transfer.number, "status": transfer.get_status_display(),
                "to": TransferStatus(to_status).label},
            code=InventoryErrorCode.INVALID_TRANSITION)


@transaction.atomic
def transfer_create(*, source: Location, destination: Location, lines: dict[Sku, int],
                    reason: str = "", actor=None) -> TransferOrder:
    """A draft transfer; no stock moves until it is sent."""
    if source.pk == destination.pk:
        raise DomainError(_("Source and destination must differ."),
                          code=InventoryErrorCode.SAME_LOCATION, status_code=400,
                          fields={"destination": [_("Choose another location.")]})
    if not lines or any(qty <= 0 for qty in lines.values()):
        raise DomainError(_("A transfer needs at least one line with a positive quantity."),
                          code=InventoryErrorCode.EMPTY_DOCUMENT, status_code=400,
                          fields={"lines": [_("Add a SKU with a quantity above zero.")]})
    transfer = TransferOrder.objects.create(
        number=document_number("TO"), source=source, destination=destination,
        reason=reason[:255], created_by=actor if getattr(actor, "pk", None) else None)
    TransferLine.objects.bulk_create(TransferLine(transfer=transfer, sku=sku, quantity=qty)
                                     for sku, qty in lines.items())
    audit_record(actor=actor, action="transfer.create", target=transfer, reason=reason,
                 data={"lines": {sku.code: qty for sku, qty in lines.items()}})
    return transfer


@transaction.atomic
def transfer_send(*, transfer: TransferOrder, actor=None) -> TransferOrder:
    """Goods leave the source: on hand − there, in transit + at the destination."""
    transfer = transfer_lock(transfer_id=transfer.pk)
    _check(transfer, TransferStatus.SENT)
    lines = list(transfer.lines.select_related("sku"))
    if not lines:
        raise DomainError(_("The transfer has no lines."), code=InventoryErrorCode.EMPTY_DOCUMENT)
    src, dst = transfer.source_id, transfer.destination_id
    levels = levels_locked({(line.sku_id, loc) for line in lines for loc in (src, dst)},
                           create=True)
    short = [line.sku.code for line in lines
             if levels[(line.sku_id, src)].on_hand - levels[(line.sku_id, src)].reserved
             < line.quantity]
    if short:
        raise InsufficientStock(
            _("Not enough available stock at %(location)s for: %(skus)s.")
            % {"location": transfer.source.name, "skus": ", ".join(short)})
    reason = _("transfer %(number)s to %(location)s") % {
        "number": transfer.number, "location": transfer.destination.name}
    stock_post(levels=levels, kind=MovementKind.TRANSFER_OUT, actor=actor,
               reference=transfer.number, reason=reason,
               deltas=[Delta(line.sku_id, src, on_hand=-line.quantity) for line in lines])
    stock_post(levels=levels, kind=MovementKind.TRANSFER_INBOUND, actor=actor,
               reference=transfer.number,
               reason=_("transfer %(number)s from %(location)s") % {
                   "number": transfer.number, "location": transfer.source.name},
               deltas=[Delta(line.sku_id, dst, in_transit=line.quantity) for line in lines])
    transfer.status = TransferStatus.SENT
    transfer.sent_at = timezone.now()
    transfer.save(update_fields=["status", "sent_at"])
    audit_record(actor=actor, action="transfer.send", target=transfer)
    return transfer


@transaction.atomic
def transfer_receive(*, transfer: TransferOrder, received: dict[int, int] | None = None,
                     reason: str = "", actor=None) -> TransferOrder:
    """Goods arrive. `received` maps SKU id → quantity (default: every line in
    full, or the line's `received_quantity` if staff entered one). A shortfall
    leaves in transit as lost and needs a reason."""
    transfer = transfer_lock(transfer_id=transfer.pk)
    _check(transfer, TransferStatus.RECEIVED)
    lines = list(transfer.lines.select_related("sku"))
    received = received or {}
    quantities = {}
    for line in lines:
        qty = received.get(line.sku_id, line.received_quantity)
        qty = line.quantity if qty is None else qty
        if isinstance(qty, bool) or not isinstance(qty, int) or not 0 <= qty <= line.quantity:
            raise DomainError(
                _("Received quantity for %(sku)s must be between 0 and %(n)d.")
                % {"sku": line.sku.code, "n": line.quantity},
                code=StockErrorCode.INVALID_QUANTITY, status_code=400,
                fields={f"received.{line.sku.code}": [_("Out of range.")]})
        quantities[line.pk] = qty
    short = {line.pk: line.quantity - quantities[line.pk] for line in lines
             if quantities[line.pk] < line.quantity}
    if short and not reason.strip():
        raise DomainError(_("Say why less arrived than was sent."), code="reason_required",
                          status_code=400, fields={"reason": [_("This field is required.")]})
    dst = transfer.destination_id
    levels = levels_locked({(line.sku_id, dst) for line in lines})
    note = _("transfer %(number)s from %(location)s") % {
        "number": transfer.number, "location": transfer.source.name}
    stock_post(levels=levels, kind=MovementKind.TRANSFER_RECEIVED, actor=actor,
               reference=transfer.number, reason=note,
               deltas=[Delta(line.sku_id, dst, in_transit=-quantities[line.pk],
                             on_hand=quantities[line.pk]) for line in lines])
    stock_post(levels=levels, kind=MovementKind.TRANSFER_LOSS, actor=actor,
               reference=transfer.number, reason=reason or note,
               deltas=[Delta(line.sku_id, dst, in_transit=-short[line.pk])
                       for line in lines if line.pk in short])
    for line in lines:
        line.received_quantity = quantities[line.pk]
    TransferLine.objects.bulk_update(lines, ["received_quantity"])
    transfer.status = TransferStatus.RECEIVED
    transfer.received_at = timezone.now()
    transfer.save(update_fields=["status", "received_at"])
    audit_record(actor=actor, action="transfer.receive", target=transfer, reason=reason,
                 data={"short": {str(k): v for k, v in short.items()}})
    return transfer


@transaction.atomic
def transfer_cancel(*, transfer: TransferOrder, reason: str = "", actor=None) -> TransferOrder:
    transfer = transfer_lock(transfer_id=transfer.pk)
    _check(transfer, TransferStatus.CANCELLED)
    transfer.status = TransferStatus.CANCELLED
    transfer.save(update_fields=["status"])
    audit_record(actor=actor, action="transfer.cancel", target=transfer, reason=reason)
    return transfer
