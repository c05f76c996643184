from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import (
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Greatest

from core import sql
from inventory.enums import AlertStatus, MovementKind
from inventory.models import (
    Location,
    Sku,
    StockAlert,
    StockLevel,
    StockMovement,
    StockPolicy,
    TransferLine,
)
from inventory.services import STATES

SKU_ORDER_FIELDS = ("id", "code", "name", "price")


def skus_for_order(*, codes: set[str]) -> dict[str, Sku]:
    """Active SKUs by code, with what an order line needs (one statement per
    order intake, so hand-written; other fields load on access)."""
    if not codes:
        return {}
    q = sql.quoted
    with sql.cursor() as cursor:
        cursor.execute(
            f"SELECT {sql.column_list(Sku, SKU_ORDER_FIELDS)} FROM {sql.table(Sku)} "
            f"WHERE {q('code')} IN {sql.in_list(len(codes))} AND {q('is_active')}", list(codes))
        return {sku.code: sku for sku in sql.load(Sku, SKU_ORDER_FIELDS, cursor.fetchall())}


def stock_available_for_locations(*, location_ids: list[int],
                                  buffers_subquery=None) -> QuerySet[Sku]:
    """SKUs annotated with `available` = Σ(on_hand − reserved) over the
    locations, less an optional per-SKU buffer, never below zero."""
    available = Coalesce(
        Sum(F("levels__on_hand") - F("levels__reserved"),
            filter=Q(levels__location_id__in=location_ids)),
        Value(0), output_field=IntegerField())
    qs = Sku.objects.filter(is_active=True)
    if buffers_subquery is not None:
        available = available - Coalesce(buffers_subquery, Value(0),
                                          output_field=IntegerField())
    return qs.annotate(available=Greatest(available, Value(0))).order_by("code")


# --- the book against the ledger -----------------------------------------------------------

def stock_ledger_drift() -> list[dict]:
    """Every SKU-location whose book differs from the sum of its ledger, in
    any state (on hand, reserved, in transit, returned, quarantine)."""
    sums = {
        (row["sku_id"], row["location_id"]): tuple(row[state] for state in STATES)
        for row in StockMovement.objects.order_by().values("sku_id", "location_id").annotate(
            **{state: Sum(f"{state}_delta") for state in STATES})
    }
    zero = (0,) * len(STATES)
    drift = []
    for level in StockLevel.objects.values("sku_id", "location_id", *STATES).iterator(
            chunk_size=5000):
        key = (level["sku_id"], level["location_id"])
        ledger = sums.pop(key, zero)
        book = tuple(level[state] for state in STATES)
        if book != ledger:
            drift.append({"sku_id": key[0], "location_id": key[1],
                          "book": dict(zip(STATES, book, strict=True)),
                          "ledger": dict(zip(STATES, ledger, strict=True))})
    for key, ledger in sums.items():
        if ledger != zero:
            drift.append({"sku_id": key[0], "location_id": key[1], "book": None,
                          "ledger": dict(zip(STATES, ledger, strict=True))})
    return drift


def stock_in_transit_mismatch() -> list[dict]:
    """Destinations whose in-transit book differs from their transfers on the road."""
    from inventory.enums import TransferStatus

    on_road = {
        (row["sku_id"], row["transfer__destination_id"]): row["n"]
        for row in TransferLine.objects.filter(transfer__status=TransferStatus.SENT)
        .order_by().values("sku_id", "transfer__destination_id").annotate(n=Sum("quantity"))
    }
    out = []
    for row in StockLevel.objects.filter(Q(in_transit__gt=0)).values(
            "sku_id", "location_id", "in_transit"):
        expected = on_road.pop((row["sku_id"], row["location_id"]), 0)
        if expected != row["in_transit"]:
            out.append({"sku_id": row["sku_id"], "location_id": row["location_id"],
                        "book": row["in_transit"], "transfers": expected})
    out += [{"sku_id": s, "location_id": loc, "book": 0, "transfers": n}
            for (s, loc), n in on_road.items() if n]
    return out


# --- a SKU-location's statement (reads like a bank statement) --------------------------------

@dataclass(frozen=True)
class StatementLine:
    at: datetime
    kind: str
    kind_label: str
    reference: str
    reason: str
    actor: str
    on_hand_in: int
    on_hand_out: int
    on_hand_balance: int
    reserved_delta: int
    reserved_balance: int
    other: dict  # non-zero changes of in transit / returned / quarantine
    balances: dict


@dataclass(frozen=True)
class Statement:
    level: StockLevel | None
    opening: dict
    closing: dict
    lines: list[StatementLine]
    total_in: int
    total_out: int


def stock_statement(*, sku: Sku, location: Location, start: datetime | None = None,
                    end: datetime | None = None, limit: int = 2000) -> Statement:
    """Opening balance, one line per movement with the running balance of
    every state, closing balance, like a bank statement."""
    movements = StockMovement.objects.filter(sku=sku, location=location)
    opening = dict.fromkeys(STATES, 0)
    if start is not None:
        before = movements.filter(created_at__lt=start).aggregate(
            **{state: Coalesce(Sum(f"{state}_delta"), 0) for state in STATES})
        opening = {state: before[state] for state in STATES}
        movements = movements.filter(created_at__gte=start)
    if end is not None:
        movements = movements.filter(created_at__lt=end)
    balance = dict(opening)
    lines = []
    total_in = total_out = 0
    labels = dict(MovementKind.choices)
    for m in (movements.select_related("actor", "order").order_by("created_at", "pk")[:limit]):
        for state in STATES:
            balance[state] += getattr(m, f"{state}_delta")
        total_in += max(m.on_hand_delta, 0)
        total_out += max(-m.on_hand_delta, 0)
        lines.append(StatementLine(
            at=m.created_at, kind=m.kind, kind_label=str(labels.get(m.kind, m.kind)),
            reference=m.reference or (m.order.number if m.order_id else ""),
            reason=m.reason, actor=m.actor.get_username() if m.actor_id else "",
            on_hand_in=max(m.on_hand_delta, 0), on_hand_out=max(-m.on_hand_delta, 0),
            on_hand_balance=balance["on_hand"], reserved_delta=m.reserved_delta,
            reserved_balance=balance["reserved"],
            other={s: getattr(m, f"{s}_delta") for s in ("in_transit", "returned", "quarantine")
                   if getattr(m, f"{s}_delta")},
            balances=dict(balance)))
    level = StockLevel.objects.filter(sku=sku, location=location).first()
    return Statement(level=level, opening=opening, closing=dict(balance), lines=lines,
                     total_in=total_in, total_out=total_out)


# --- dashboard reads ---------------------------------------------------------------------------

def alerts_open() -> QuerySet[StockAlert]:
    return (StockAlert.objects.filter(status=AlertStatus.OPEN)
            .select_related("sku", "location")
            .order_by("-kind", "available", "sku__code"))  # out of stock first


def stock_low_list(*, limit: int = 20) -> QuerySet[StockPolicy]:
    """SKU-locations at or below their reorder point, emptiest first."""
    from inventory.replenishment import policies_low

    return (policies_low().select_related("sku", "location")
            .order_by("available", "sku__code")[:limit])


def stock_value_by_location() -> list[dict]:
    """Units and value at cost of sellable and held stock, per location."""
    value = ExpressionWrapper(
        (F("on_hand") + F("returned") + F("quarantine")) * F("sku__unit_cost"),
        output_field=DecimalField(max_digits=16, decimal_places=2))
    rows = (StockLevel.objects.order_by().values("location_id", "location__code",
                                                 "location__name")
            .annotate(units_on_hand=Sum("on_hand"), units_in_transit=Sum("in_transit"),
                      units_held=Sum(F("returned") + F("quarantine")),
                      value=Coalesce(Sum(value), Value(Decimal("0.00")),
                                     output_field=DecimalField(max_digits=16, decimal_places=2)))
            .order_by("location__code"))
    return list(rows)
