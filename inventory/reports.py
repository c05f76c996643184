"""Inventory reports (003 03): turnover and days of cover per SKU-location,
stock-out rate, slow movers; and their XLSX export.

Definitions (over a period of `days` days ending now):
- sold: units shipped (the ledger's `consume` movements);
- average on hand: (on hand at the start + on hand now) / 2;
- turnover: sold / average on hand (times the stock turned over in the period);
- days of cover: available now / average daily sales (empty when nothing sold);
- stock-out days: days whose closing available (on hand − reserved) was zero,
  rebuilt from the ledger; stock-out rate: stock-out days / days;
- slow mover: stock on hand and either nothing sold in the period or more
  than `SLOW_COVER_DAYS` days of cover."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from io import BytesIO

from django.db.models import F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory.enums import MovementKind
from inventory.models import StockLevel, StockMovement

SLOW_COVER_DAYS = 180
MAX_ROWS = 20000


@dataclass(frozen=True)
class TurnoverRow:
    sku_code: str
    sku_name: str
    location_code: str
    location_name: str
    on_hand: int
    available: int
    opening_on_hand: int
    sold: int
    average_on_hand: Decimal
    turnover: Decimal | None
    days_of_cover: Decimal | None
    stockout_days: int
    stockout_rate: Decimal
    stock_value: Decimal

    @property
    def is_slow(self) -> bool:
        return self.on_hand > 0 and (self.sold == 0 or (
            self.days_of_cover is not None and self.days_of_cover > SLOW_COVER_DAYS))


def _q(value: Decimal, places: str = "0.01") -> Decimal:
    return value.quantize(Decimal(places), ROUND_HALF_UP)


def _movement_sum(since, *, kind: str | None = None, field: str = "on_hand_delta"):
    qs = StockMovement.objects.filter(sku_id=OuterRef("sku_id"),
                                      location_id=OuterRef("location_id"),
                                      created_at__gte=since)
    if kind:
        qs = qs.filter(kind=kind)
    return Coalesce(Subquery(qs.order_by().values("sku_id").annotate(n=Sum(field))
                             .values("n")[:1], output_field=IntegerField()), Value(0))


def turnover_rows(*, days: int = 90, location_id: int | None = None,
                  category_path: str | None = None, now=None) -> list[TurnoverRow]:
    now = now or timezone.now()
    start = now - timedelta(days=days)
    levels = StockLevel.objects.select_related("sku", "location")
    if location_id:
        levels = levels.filter(location_id=location_id)
    if category_path:
        levels = levels.filter(sku__product__category_node__path__startswith=category_path)
    levels = (levels.annotate(net=_movement_sum(start),
                              sold=-_movement_sum(start, kind=MovementKind.CONSUME))
              .filter(Q(on_hand__gt=0) | Q(sold__gt=0) | Q(net__lt=0) | Q(net__gt=0))
              .order_by("location__code", "sku__code")[:MAX_ROWS])
    levels = list(levels)
    # Daily net change of available, to rebuild closing balances backwards.
    daily: dict[tuple[int, int], dict] = defaultdict(dict)
    movement_rows = (StockMovement.objects.filter(created_at__gte=start)
                     .filter(Q(on_hand_delta__lt=0) | Q(on_hand_delta__gt=0)
                             | Q(reserved_delta__lt=0) | Q(reserved_delta__gt=0)))
    if location_id:
        movement_rows = movement_rows.filter(location_id=location_id)
    if category_path:
        movement_rows = movement_rows.filter(
            sku__product__category_node__path__startswith=category_path)
    for row in (movement_rows.annotate(day=TruncDate("created_at")).order_by()
                .values("sku_id", "location_id", "day")
                .annotate(n=Sum(F("on_hand_delta") - F("reserved_delta")))):
        daily[(row["sku_id"], row["location_id"])][row["day"]] = row["n"]
    today = timezone.localdate(now)
    out = []
    for level in levels:
        changes = daily.get((level.sku_id, level.location_id), {})
        balance = level.on_hand - level.reserved
        closing_by_day = []
        for offset in range(days):
            day = today - timedelta(days=offset)
            closing_by_day.append((day, balance))
            balance -= changes.get(day, 0)
        # A SKU-location first stocked during the period is not "out" before then.
        first_day = min(changes) if balance <= 0 and changes else None
        stockout_days = sum(1 for day, closing in closing_by_day
                            if closing <= 0 and (first_day is None or day >= first_day))
        opening = level.on_hand - level.net
        average = Decimal(opening + level.on_hand) / 2
        turnover = _q(Decimal(level.sold) / average) if average > 0 else None
        daily_sales = Decimal(level.sold) / days
        available = level.on_hand - level.reserved
        cover = _q(Decimal(available) / daily_sales, "0.1") if level.sold > 0 else None
        out.append(TurnoverRow(
            sku_code=level.sku.code, sku_name=level.sku.name,
            location_code=level.location.code, location_name=level.location.name,
            on_hand=level.on_hand, available=available, opening_on_hand=opening,
            sold=level.sold, average_on_hand=_q(average, "0.1"), turnover=turnover,
            days_of_cover=cover, stockout_days=stockout_days,
            stockout_rate=_q(Decimal(stockout_days) / days, "0.001"),
            stock_value=_q(level.on_hand * level.sku.unit_cost)))
    return out


def slow_movers(rows: list[TurnoverRow]) -> list[TurnoverRow]:
    return sorted((r for r in rows if r.is_slow), key=lambda r: (-r.stock_value, r.sku_code))


@dataclass(frozen=True)
class LocationSummary:
    location_code: str
    location_name: str
    sku_locations: int
    sold: int
    average_on_hand: Decimal
    turnover: Decimal | None
    stockout_rate: Decimal


def location_summaries(rows: list[TurnoverRow]) -> list[LocationSummary]:
    groups: dict[tuple[str, str], list[TurnoverRow]] = defaultdict(list)
    for row in rows:
        groups[(row.location_code, row.location_name)].append(row)
    out = []
    for (code, name), items in sorted(groups.items()):
        sold = sum(r.sold for r in items)
        average = sum((r.average_on_hand for r in items), Decimal(0))
        out.append(LocationSummary(
            location_code=code, location_name=name, sku_locations=len(items), sold=sold,
            average_on_hand=average,
            turnover=_q(Decimal(sold) / average) if average > 0 else None,
            stockout_rate=_q(sum((r.stockout_rate for r in items), Decimal(0)) / len(items),
                             "0.001")))
    return out


def turnover_by_location(*, days: int = 90, now=None) -> list[dict]:
    """Set-based, for the dashboard chart: per location, units sold in the
    period and turnover against (opening + closing on hand) / 2."""
    now = now or timezone.now()
    start = now - timedelta(days=days)
    closing = dict(StockLevel.objects.order_by().values_list("location_id")
                   .annotate(n=Sum("on_hand")))
    moved = {row["location_id"]: row for row in
             StockMovement.objects.filter(created_at__gte=start).order_by()
             .values("location_id")
             .annotate(net=Sum("on_hand_delta"),
                       sold=Coalesce(-Sum("on_hand_delta",
                                          filter=Q(kind=MovementKind.CONSUME)), 0))}
    from inventory.models import Location

    out = []
    for location in Location.objects.filter(is_active=True).order_by("code"):
        close = closing.get(location.pk, 0) or 0
        row = moved.get(location.pk, {"net": 0, "sold": 0})
        average = Decimal(close + close - (row["net"] or 0)) / 2
        out.append({"code": location.code, "name": location.name, "sold": row["sold"] or 0,
                    "turnover": _q(Decimal(row["sold"] or 0) / average) if average > 0
                    else Decimal("0.00")})
    return out


# --- XLSX export ----------------------------------------------------------------------------

def _headers_turnover() -> list[str]:
    return [_("SKU code"), _("SKU name"), _("Location code"), _("Location"), _("On hand"),
            _("Available"), _("On hand at start"), _("Sold"), _("Average on hand"),
            _("Turnover"), _("Days of cover"), _("Stock-out days"), _("Stock-out rate"),
            _("Stock value at cost")]


def _turnover_values(row: TurnoverRow) -> list:
    return [row.sku_code, row.sku_name, row.location_code, row.location_name, row.on_hand,
            row.available, row.opening_on_hand, row.sold, row.average_on_hand, row.turnover,
            row.days_of_cover, row.stockout_days, row.stockout_rate, row.stock_value]


def inventory_report_xlsx(*, days: int = 90, location_id: int | None = None,
                          category_path: str | None = None, now=None) -> bytes:
    """One workbook: turnover and cover, slow movers, stock-out rate by location."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    rows = turnover_rows(days=days, location_id=location_id, category_path=category_path,
                         now=now)
    book = Workbook()
    sheet = book.active
    sheet.title = _("Turnover")[:31]
    bold = Font(bold=True)
    sheet.append(_headers_turnover())
    for row in rows:
        sheet.append(_turnover_values(row))
    slow = book.create_sheet(_("Slow movers")[:31])
    slow.append(_headers_turnover())
    for row in slow_movers(rows):
        slow.append(_turnover_values(row))
    summary = book.create_sheet(_("Stock-out rate")[:31])
    summary.append([_("Location code"), _("Location"), _("SKU-locations"), _("Sold"),
                    _("Average on hand"), _("Turnover"), _("Stock-out rate")])
    for s in location_summaries(rows):
        summary.append([s.location_code, s.location_name, s.sku_locations, s.sold,
                        s.average_on_hand, s.turnover, s.stockout_rate])
    for ws in (sheet, slow, summary):
        for cell in ws[1]:
            cell.font = bold
        ws.freeze_panes = "A2"
    info = book.create_sheet(_("About")[:31])
    info.append([_("Period (days)"), days])
    info.append([_("Generated at"), timezone.localtime(now or timezone.now()).replace(
        tzinfo=None)])
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()
