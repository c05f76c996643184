"""Every stock write: a ledger movement and the book updated together, inside
the caller's transaction, with StockLevel rows locked in pk order. Stock never
goes negative (checked here and by database constraints)."""

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Case, F, IntegerField, Value, When

from core.errors import DomainError
from inventory.allocation import Pick, allocation_plan
from inventory.enums import MovementKind, StockErrorCode
from inventory.locks import stock_levels_lock
from inventory.models import Location, Sku, StockLevel, StockMovement


class InsufficientStock(DomainError):
    status_code = 409
    code = StockErrorCode.INSUFFICIENT_STOCK


def _apply(*, levels: dict[tuple[int, int], StockLevel], picks: Iterable[Pick], kind: str,
           on_hand_sign: int, reserved_sign: int, order=None, reason: str = "",
           actor=None) -> None:
    """Update the book with one UPDATE and append the ledger with one INSERT."""
    picks = [p for p in picks if p.quantity]
    if not picks:
        return
    on_hand_cases, reserved_cases, movements = [], [], []
    for pick in picks:
        level = levels[(pick.sku_id, pick.location_id)]
        if on_hand_sign:
            on_hand_cases.append(When(pk=level.pk, then=Value(on_hand_sign * pick.quantity)))
            level.on_hand += on_hand_sign * pick.quantity
        if reserved_sign:
            reserved_cases.append(When(pk=level.pk, then=Value(reserved_sign * pick.quantity)))
            level.reserved += reserved_sign * pick.quantity
        if level.on_hand < 0 or level.reserved < 0 or level.reserved > level.on_hand:
            raise DomainError("stock would go negative", code=StockErrorCode.NEGATIVE_STOCK)
        movements.append(StockMovement(
            sku_id=pick.sku_id, location_id=pick.location_id, kind=kind,
            on_hand_delta=on_hand_sign * pick.quantity,
            reserved_delta=reserved_sign * pick.quantity,
            order=order, reason=reason[:255], actor=actor if getattr(actor, "pk", None) else None,
        ))
    updates = {}
    zero = Value(0)
    if on_hand_cases:
        updates["on_hand"] = F("on_hand") + Case(*on_hand_cases, default=zero,
                                                 output_field=IntegerField())
    if reserved_cases:
        updates["reserved"] = F("reserved") + Case(*reserved_cases, default=zero,
                                                   output_field=IntegerField())
    StockLevel.objects.filter(pk__in={levels[(p.sku_id, p.location_id)].pk for p in picks}) \
        .update(**updates)
    StockMovement.objects.bulk_create(movements)


@transaction.atomic
def stock_receive(*, sku: Sku, location: Location, quantity: int, reason: str = "",
                  actor=None, kind: str = MovementKind.RECEIPT) -> StockLevel:
    """Goods in (or a positive adjustment)."""
    if quantity <= 0:
        raise DomainError("quantity must be positive", code="invalid_quantity",
                          status_code=400, fields={"quantity": ["must be positive"]})
    StockLevel.objects.get_or_create(sku=sku, location=location)
    levels = {(lv.sku_id, lv.location_id): lv
              for lv in stock_levels_lock(pairs={(sku.pk, location.pk)})}
    _apply(levels=levels, picks=[Pick(sku.pk, location.pk, quantity)], kind=kind,
           on_hand_sign=1, reserved_sign=0, reason=reason, actor=actor)
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
    _apply(levels=levels, picks=plan, kind=MovementKind.RESERVE, on_hand_sign=0,
           reserved_sign=1, order=order, reason=reason, actor=actor)
    return plan


def _locked(picks: list[Pick]) -> dict[tuple[int, int], StockLevel]:
    return {(lv.sku_id, lv.location_id): lv
            for lv in stock_levels_lock(pairs={(p.sku_id, p.location_id) for p in picks})}


def stock_release(*, picks: list[Pick], order=None, reason: str = "", actor=None) -> None:
    """Give reserved stock back (order cancelled). Caller's transaction."""
    _apply(levels=_locked(picks), picks=picks, kind=MovementKind.RELEASE, on_hand_sign=0,
           reserved_sign=-1, order=order, reason=reason, actor=actor)


def stock_consume(*, picks: list[Pick], order=None, reason: str = "", actor=None) -> None:
    """Reserved stock leaves the building (order dispatched). Caller's transaction."""
    _apply(levels=_locked(picks), picks=picks, kind=MovementKind.CONSUME, on_hand_sign=-1,
           reserved_sign=-1, order=order, reason=reason, actor=actor)
