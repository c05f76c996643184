"""Every stock write: ledger movements and the book updated together, inside
the caller's transaction, with StockLevel rows locked in pk order. No state
of the book ever goes negative, and reserved never exceeds on hand (checked
here and by database constraints).

A movement kind says which states it moves units between (`KIND_STATES`):
a receipt adds to on hand, a transfer takes from on hand at the source and
adds to in transit at the destination, an inspected return leaves
"returned" for on hand or quarantine, and so on."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import sql
from core.audit import audit_record
from core.errors import DomainError
from inventory.allocation import Pick, allocation_plan
from inventory.enums import MovementKind, StockErrorCode
from inventory.locks import stock_levels_lock
from inventory.models import Location, Sku, StockLevel, StockMovement

STATES = ("on_hand", "reserved", "in_transit", "returned", "quarantine")
MAX_UNITS = 1_000_000  # the most units one line, count or adjustment the screens accept

# kind → {state: sign}: the states a movement of that kind may change.
KIND_STATES: dict[str, dict[str, int]] = {
    MovementKind.RECEIPT: {"on_hand": 1},
    MovementKind.OPENING: {"on_hand": 1},
    MovementKind.RESERVE: {"reserved": 1},
    MovementKind.RELEASE: {"reserved": -1},
    MovementKind.CONSUME: {"on_hand": -1, "reserved": -1},
    MovementKind.TRANSFER_OUT: {"on_hand": -1},
    MovementKind.TRANSFER_INBOUND: {"in_transit": 1},
    MovementKind.TRANSFER_RECEIVED: {"in_transit": -1, "on_hand": 1},
    MovementKind.TRANSFER_LOSS: {"in_transit": -1},
    MovementKind.RETURN_RECEIVED: {"returned": 1},
    MovementKind.RETURN_RESTOCKED: {"returned": -1, "on_hand": 1},
    MovementKind.RETURN_QUARANTINED: {"returned": -1, "quarantine": 1},
    MovementKind.QUARANTINE: {"on_hand": -1, "quarantine": 1},
    MovementKind.QUARANTINE_RELEASED: {"quarantine": -1, "on_hand": 1},
    MovementKind.WRITE_OFF: {"quarantine": -1},
}


class InsufficientStock(DomainError):
    status_code = 409
    code = StockErrorCode.INSUFFICIENT_STOCK


@dataclass(frozen=True)
class Delta:
    """A change to one SKU-location's book (one ledger line)."""

    sku_id: int
    location_id: int
    on_hand: int = 0
    reserved: int = 0
    in_transit: int = 0
    returned: int = 0
    quarantine: int = 0

    def is_zero(self) -> bool:
        return not any(getattr(self, state) for state in STATES)


def _kind_delta(kind: str, sku_id: int, location_id: int, quantity: int) -> Delta:
    return Delta(sku_id, location_id,
                 **{state: sign * quantity for state, sign in KIND_STATES[kind].items()})


def _positive(quantity) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise DomainError(_("The quantity must be a whole number above zero."),
                          code=StockErrorCode.INVALID_QUANTITY, status_code=400,
                          fields={"quantity": [_("Must be a whole number above zero.")]})
    return quantity


def stock_levels_ensure(pairs: set[tuple[int, int]]) -> None:
    """Create the missing (empty) StockLevel rows for `pairs`."""
    if not pairs:
        return
    StockLevel.objects.bulk_create(
        [StockLevel(sku_id=sku_id, location_id=location_id) for sku_id, location_id in
         sorted(pairs)], ignore_conflicts=True)


def levels_locked(pairs: set[tuple[int, int]], *, create: bool = False
                  ) -> dict[tuple[int, int], StockLevel]:
    if create:
        stock_levels_ensure(pairs)
    return {(lv.sku_id, lv.location_id): lv for lv in stock_levels_lock(pairs=pairs)}


def stock_post(*, levels: dict[tuple[int, int], StockLevel], deltas: Iterable[Delta],
               kind: str, order=None, reason: str = "", actor=None, reference: str = ""
               ) -> list[StockMovement]:
    """Apply `deltas` to the locked `levels`: one UPDATE of the book, one
    INSERT into the ledger. Raises (changing nothing) if any state would go
    negative or reserved would exceed on hand. Returns the movements, or
    nothing inside a `core.sql.write_batch` (they are written at its end)."""
    deltas = [d for d in deltas if not d.is_zero()]
    if not deltas:
        return []
    totals: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STATES, 0))
    for delta in deltas:
        level = levels.get((delta.sku_id, delta.location_id))
        if level is None:
            raise DomainError("stock level not locked", code=StockErrorCode.NEGATIVE_STOCK)
        for state in STATES:
            totals[level.pk][state] += getattr(delta, state)
    by_pk = {level.pk: level for level in levels.values()}
    for pk, change in totals.items():
        level = by_pk[pk]
        after = {state: getattr(level, state) + change[state] for state in STATES}
        if min(after.values()) < 0 or after["reserved"] > after["on_hand"]:
            sku = Sku.objects.filter(pk=level.sku_id).values_list("code", flat=True).first()
            location = Location.objects.filter(pk=level.location_id).values_list(
                "name", flat=True).first()
            raise DomainError(
                _("Stock of %(sku)s at %(location)s would go negative.")
                % {"sku": sku, "location": location},
                code=StockErrorCode.NEGATIVE_STOCK)
    now = timezone.now()
    user = actor if getattr(actor, "pk", None) else None
    rows = [(d.sku_id, d.location_id, kind, d.on_hand, d.reserved, d.in_transit, d.returned,
             d.quarantine, getattr(order, "pk", None), reference[:40], reason[:255],
             getattr(user, "pk", None), now) for d in deltas]
    ids = _post_rows(totals=totals, rows=rows, now=now)
    for pk, change in totals.items():
        for state in STATES:
            setattr(by_pk[pk], state, getattr(by_pk[pk], state) + change[state])
        by_pk[pk].updated_at = now
    if ids is None:  # waiting in a write batch: no ids to return
        return []
    return [StockMovement(pk=movement_id, sku_id=d.sku_id, location_id=d.location_id, kind=kind,
                          on_hand_delta=d.on_hand, reserved_delta=d.reserved,
                          in_transit_delta=d.in_transit, returned_delta=d.returned,
                          quarantine_delta=d.quarantine, order=order, reference=reference[:40],
                          reason=reason[:255], actor=user, created_at=now)
            for movement_id, d in zip(ids, deltas, strict=True)]


MOVEMENT_FIELDS = ("sku", "location", "kind", "on_hand_delta", "reserved_delta",
                   "in_transit_delta", "returned_delta", "quarantine_delta", "order",
                   "reference", "reason", "actor", "created_at")


def _post_rows(*, totals: dict[int, dict[str, int]], rows: list[tuple], now
               ) -> list[int] | None:
    """Add `totals` (level pk → state → change) to the book and append the
    ledger `rows`: one statement on PostgreSQL (the UPDATE in a WITH), two
    elsewhere. Returns the new movement ids in `rows` order, or None inside
    a `core.sql.write_batch` (which writes them later)."""
    changes = [(pk, *(change[state] for state in STATES)) for pk, change in totals.items()]
    level = sql.table(StockLevel)
    update = (f"UPDATE {level} SET "
              + ", ".join(f"{sql.quoted(state)} = {sql.quoted(state)} + d.column{i}"
                          for i, state in enumerate(STATES, start=2))
              + f", {sql.quoted('updated_at')} = %s FROM (VALUES "
              f"{sql.row_placeholders(len(STATES) + 1, len(changes))}) AS d "
              f"WHERE {level}.{sql.quoted('id')} = d.column1")
    stamp = StockLevel._meta.get_field("updated_at").get_db_prep_save(now, connection)
    update_params = [stamp, *(value for change in changes for value in change)]
    insert, insert_params = sql.insert_values(StockMovement, MOVEMENT_FIELDS, rows)
    if sql.batching():  # the caller reads no ids back: one write at the batch's end
        sql.write(update, update_params,
                  touches=[(StockLevel._meta.db_table, pk) for pk in totals])
        sql.write(insert, insert_params)
        return None
    insert += f" RETURNING {sql.quoted('id')}"
    with sql.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"WITH book AS ({update}) {insert}", update_params + insert_params)
        else:
            cursor.execute(update, update_params)
            cursor.execute(insert, insert_params)
        return [row[0] for row in cursor.fetchall()]


def _apply(*, levels: dict[tuple[int, int], StockLevel], picks: Iterable[Pick], kind: str,
           order=None, reason: str = "", actor=None) -> None:
    stock_post(levels=levels, kind=kind, order=order, reason=reason, actor=actor,
               deltas=[_kind_delta(kind, p.sku_id, p.location_id, p.quantity)
                       for p in picks if p.quantity])


# --- the order path (used by sales) ------------------------------------------------------

@transaction.atomic
def stock_receive(*, sku: Sku, location: Location, quantity: int, reason: str = "",
                  actor=None, kind: str = MovementKind.RECEIPT, reference: str = ""
                  ) -> StockLevel:
    """Goods in (or a positive adjustment)."""
    _positive(quantity)
    levels = levels_locked({(sku.pk, location.pk)}, create=True)
    delta = (_kind_delta(kind, sku.pk, location.pk, quantity) if kind in KIND_STATES
             else Delta(sku.pk, location.pk, on_hand=quantity))
    stock_post(levels=levels, deltas=[delta], kind=kind, reason=reason, actor=actor,
               reference=reference)
    return levels[(sku.pk, location.pk)]


def stock_reserve(*, demand: dict[int, int], locations: list[int], order=None,
                  reason: str = "", actor=None) -> list[Pick]:
    """Reserve `demand` (sku → qty) from `locations` (preference order).

    Must run inside the caller's transaction. Raises InsufficientStock (and
    changes nothing) when the candidates cannot serve every line."""
    levels = {(lv.sku_id, lv.location_id): lv
              for lv in stock_levels_lock(sku_ids=set(demand), location_ids=locations)}
    available = {key: lv.on_hand - lv.reserved for key, lv in levels.items()}
    plan = allocation_plan(demand=demand, locations=locations, available=available)
    if plan is None:
        raise InsufficientStock("not enough stock for this order")
    _apply(levels=levels, picks=plan, kind=MovementKind.RESERVE, order=order, reason=reason,
           actor=actor)
    return plan


def _locked(picks: list[Pick]) -> dict[tuple[int, int], StockLevel]:
    return levels_locked({(p.sku_id, p.location_id) for p in picks})


def stock_release(*, picks: list[Pick], order=None, reason: str = "", actor=None) -> None:
    """Give reserved stock back (order cancelled). Caller's transaction."""
    _apply(levels=_locked(picks), picks=picks, kind=MovementKind.RELEASE, order=order,
           reason=reason, actor=actor)


def stock_consume(*, picks: list[Pick], order=None, reason: str = "", actor=None) -> None:
    """Reserved stock leaves the building (order dispatched): sold. Caller's
    transaction."""
    _apply(levels=_locked(picks), picks=picks, kind=MovementKind.CONSUME, order=order,
           reason=reason, actor=actor)


# --- state changes staff make by hand ------------------------------------------------------

# Operations a person may perform on one SKU-location from the stock screen.
MANUAL_KINDS = (
    MovementKind.RECEIPT,
    MovementKind.RETURN_RECEIVED,
    MovementKind.RETURN_RESTOCKED,
    MovementKind.RETURN_QUARANTINED,
    MovementKind.QUARANTINE,
    MovementKind.QUARANTINE_RELEASED,
    MovementKind.WRITE_OFF,
)


@transaction.atomic
def stock_state_change(*, sku: Sku, location: Location, kind: str, quantity: int,
                       reason: str, actor=None, order=None, reference: str = ""
                       ) -> StockLevel:
    """Move `quantity` units between states at one SKU-location (a return
    received, inspected, quarantined, released, written off…). A reason is
    required; the change is a ledger movement and an audit row."""
    if kind not in MANUAL_KINDS:
        raise DomainError(_("This kind of stock change cannot be made by hand."),
                          code="invalid_kind", status_code=400,
                          fields={"kind": [_("Not a manual stock change.")]})
    _positive(quantity)
    if not reason.strip():
        raise DomainError(_("Give a reason for the stock change."), code="reason_required",
                          status_code=400, fields={"reason": [_("This field is required.")]})
    levels = levels_locked({(sku.pk, location.pk)}, create=True)
    level = levels[(sku.pk, location.pk)]
    if KIND_STATES[kind].get("on_hand") == -1 and level.on_hand - level.reserved < quantity:
        raise InsufficientStock(_("Only %(n)d available to move (the rest is reserved).")
                                % {"n": level.on_hand - level.reserved})
    movements = stock_post(levels=levels, kind=kind, reason=reason, actor=actor, order=order,
                           reference=reference,
                           deltas=[_kind_delta(kind, sku.pk, location.pk, quantity)])
    audit_record(actor=actor, action=f"stock.{kind}", target=movements[0], reason=reason,
                 data={"sku": sku.code, "location": location.code, "quantity": quantity})
    return level
