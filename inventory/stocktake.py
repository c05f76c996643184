"""Stocktake (盤點, 001 第六章 4): count a location against a frozen book.

`stocktake_start` freezes the book: it locks the location's stock rows (so
movements still in flight commit first), records each SKU's on hand as the
line's `book_quantity`, and lets go. Sales and receipts carry on while people
count. A line's variance is `counted − book at freeze`, so those movements do
not show up as false variances, and approval posts the variance as an
adjustment *delta* on top of whatever the book says by then: concurrent
sales are neither undone nor counted twice. Once posted (or cancelled) a
count is locked: the services refuse, and on PostgreSQL a trigger refuses
any change to its lines."""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.errors import DomainError, InvalidTransition
from inventory.enums import (
    STOCKTAKE_TRANSITIONS,
    InventoryErrorCode,
    MovementKind,
    StockErrorCode,
    StocktakeStatus,
)
from inventory.locks import stocktake_lock
from inventory.models import Category, Location, StockLevel, Stocktake, StocktakeLine
from inventory.services import Delta, levels_locked, stock_post
from inventory.transfers import document_number


def _check(stocktake: Stocktake, to_status: str) -> None:
    if to_status not in STOCKTAKE_TRANSITIONS[stocktake.status]:
        raise InvalidTransition(
            _("Stocktake %(number)s is %(status)s and cannot become %(to)s.") % {
                "number": stocktake.number, "status": stocktake.get_status_display(),
                "to": StocktakeStatus(to_status).label},
            code=InventoryErrorCode.INVALID_TRANSITION)


def stocktake_scope(*, location: Location, category: Category | None) -> QuerySet[StockLevel]:
    qs = StockLevel.objects.filter(location=location, sku__is_active=True)
    if category is not None:
        qs = qs.filter(sku__product__category_node__path__startswith=category.path)
    return qs


@transaction.atomic
def stocktake_start(*, location: Location, category: Category | None = None, note: str = "",
                    actor=None) -> Stocktake:
    """Create a count sheet and freeze the book for it."""
    level_ids = list(stocktake_scope(location=location, category=category)
                     .values_list("pk", flat=True))
    locked = (StockLevel.objects.select_for_update().filter(pk__in=level_ids)
              .order_by("pk").values_list("sku_id", "on_hand"))
    frozen = list(locked)  # runs the locking query: in-flight movements commit first
    stocktake = Stocktake.objects.create(
        number=document_number("ST"), location=location, category=category,
        note=note[:255], frozen_at=timezone.now(),
        created_by=actor if getattr(actor, "pk", None) else None)
    StocktakeLine.objects.bulk_create(
        StocktakeLine(stocktake=stocktake, sku_id=sku_id, book_quantity=on_hand)
        for sku_id, on_hand in frozen)
    audit_record(actor=actor, action="stocktake.start", target=stocktake, reason=note,
                 data={"lines": len(frozen), "location": location.code,
                       "category": category.code if category else None})
    return stocktake


@dataclass(frozen=True)
class CountResult:
    recorded: int
    not_on_sheet: list[int]


@transaction.atomic
def stocktake_counts_record(*, stocktake: Stocktake, counts: dict[int, int],
                            actor=None, source: str = "") -> CountResult:
    """Enter counts (SKU id → counted units). SKUs that are not on the sheet
    are refused (and nothing is recorded)."""
    stocktake = stocktake_lock(stocktake_id=stocktake.pk)
    if stocktake.status != StocktakeStatus.COUNTING:
        raise InvalidTransition(
            _("Stocktake %(number)s is %(status)s: counts can no longer change.")
            % {"number": stocktake.number, "status": stocktake.get_status_display()},
            code=InventoryErrorCode.INVALID_TRANSITION)
    for qty in counts.values():
        if isinstance(qty, bool) or not isinstance(qty, int) or qty < 0:
            raise DomainError(_("Counts must be whole numbers, zero or more."),
                              code=StockErrorCode.INVALID_QUANTITY, status_code=400,
                              fields={"counted": [_("Enter a whole number, zero or more.")]})
    lines = {line.sku_id: line for line in stocktake.lines.filter(sku_id__in=list(counts))}
    missing = sorted(set(counts) - set(lines))
    if missing:
        raise DomainError(_("%(n)d SKUs are not on this count sheet.") % {"n": len(missing)},
                          code=InventoryErrorCode.NOT_ON_SHEET, status_code=400,
                          fields={"sku": [_("Not on this count sheet.")]})
    now = timezone.now()
    for sku_id, line in lines.items():
        line.counted_quantity = counts[sku_id]
        line.counted_at = now
    StocktakeLine.objects.bulk_update(list(lines.values()), ["counted_quantity", "counted_at"],
                                      batch_size=500)
    audit_record(actor=actor, action="stocktake.count", target=stocktake, reason=source,
                 data={"lines": len(lines)})
    return CountResult(recorded=len(lines), not_on_sheet=missing)


@transaction.atomic
def stocktake_submit(*, stocktake: Stocktake, actor=None) -> Stocktake:
    """Counting is done; the sheet waits for approval."""
    stocktake = stocktake_lock(stocktake_id=stocktake.pk)
    _check(stocktake, StocktakeStatus.SUBMITTED)
    uncounted = stocktake.lines.filter(counted_quantity__isnull=True).count()
    if uncounted:
        raise DomainError(_("%(n)d lines have no count yet.") % {"n": uncounted},
                          code=InventoryErrorCode.UNCOUNTED_LINES, status_code=409)
    stocktake.status = StocktakeStatus.SUBMITTED
    stocktake.submitted_at = timezone.now()
    stocktake.save(update_fields=["status", "submitted_at"])
    audit_record(actor=actor, action="stocktake.submit", target=stocktake)
    return stocktake


@transaction.atomic
def stocktake_reopen(*, stocktake: Stocktake, reason: str = "", actor=None) -> Stocktake:
    stocktake = stocktake_lock(stocktake_id=stocktake.pk)
    _check(stocktake, StocktakeStatus.COUNTING)
    stocktake.status = StocktakeStatus.COUNTING
    stocktake.submitted_at = None
    stocktake.save(update_fields=["status", "submitted_at"])
    audit_record(actor=actor, action="stocktake.reopen", target=stocktake, reason=reason)
    return stocktake


@transaction.atomic
def stocktake_approve(*, stocktake: Stocktake, actor=None, reason: str = "") -> Stocktake:
    """Post each line's variance (counted − book at freeze) as an adjustment
    movement on the current book, and lock the count."""
    stocktake = stocktake_lock(stocktake_id=stocktake.pk)
    _check(stocktake, StocktakeStatus.POSTED)
    lines = list(stocktake.lines.select_related("sku"))
    changes = [line for line in lines if line.counted_quantity != line.book_quantity]
    location_id = stocktake.location_id
    levels = levels_locked({(line.sku_id, location_id) for line in changes})
    impossible = []
    for line in changes:
        level = levels[(line.sku_id, location_id)]
        if level.on_hand + line.variance < level.reserved:
            impossible.append(line.sku.code)
    if impossible:
        raise DomainError(
            _("Posting would leave less stock than is reserved for orders for: %(skus)s. "
              "Reallocate or cancel those orders, or recount.") % {"skus": ", ".join(impossible)},
            code=StockErrorCode.NEGATIVE_STOCK, status_code=409)
    note = reason or _("stocktake %(number)s") % {"number": stocktake.number}
    stock_post(levels=levels, kind=MovementKind.STOCKTAKE, actor=actor,
               reference=stocktake.number, reason=note,
               deltas=[Delta(line.sku_id, location_id, on_hand=line.variance)
                       for line in changes])
    for line in lines:
        line.posted_delta = line.variance
    StocktakeLine.objects.bulk_update(lines, ["posted_delta"], batch_size=500)
    stocktake.status = StocktakeStatus.POSTED
    stocktake.posted_at = timezone.now()
    stocktake.posted_by = actor if getattr(actor, "pk", None) else None
    stocktake.save(update_fields=["status", "posted_at", "posted_by"])
    audit_record(actor=actor, action="stocktake.approve", target=stocktake, reason=reason,
                 data={"adjusted_lines": len(changes),
                       "net_units": sum(line.variance for line in changes)})
    return stocktake


@transaction.atomic
def stocktake_cancel(*, stocktake: Stocktake, reason: str = "", actor=None) -> Stocktake:
    stocktake = stocktake_lock(stocktake_id=stocktake.pk)
    _check(stocktake, StocktakeStatus.CANCELLED)
    stocktake.status = StocktakeStatus.CANCELLED
    stocktake.save(update_fields=["status"])
    audit_record(actor=actor, action="stocktake.cancel", target=stocktake, reason=reason)
    return stocktake


def stocktake_variances(stocktake: Stocktake) -> QuerySet[StocktakeLine]:
    """Lines with their variance and its value at cost, largest loss first."""
    return (stocktake.lines.select_related("sku")
            .filter(counted_quantity__isnull=False)
            .annotate(variance_units=F("counted_quantity") - F("book_quantity"),
                      variance_value=(F("counted_quantity") - F("book_quantity"))
                      * F("sku__unit_cost"))
            .exclude(variance_units=0)
            .order_by("variance_value", "sku__code"))

