"""Safety stock, reorder points, alerts and replenishment (003 04 庫存預警機制,
補貨機制; 002 二(三)3(1)).

- A `StockPolicy` per SKU-location holds safety stock and reorder point, set
  by hand or computed from the last N weeks of sales and the lead time
  (`reorder_levels`: safety = z·σ(weekly sales)·√(lead time in weeks),
  reorder point = average daily sales × lead time + safety).
- `inventory_alerts_run` (the `inventory_alerts` job) is set-based: a fixed
  handful of SQL statements whatever the number of SKUs. A SKU-location is
  *low* when available (on hand − reserved) ≤ its reorder point and *out of
  stock* when nothing is available. It opens one alert per SKU-location (a
  partial unique index holds that even against a second worker), refreshes
  open ones, closes those that recovered (available > reorder point), and
  drafts a replenishment suggestion for each open alert that has none.
- Suggested quantity (`replenishment_quantity`, mirrored in SQL): forecast
  daily sales = the last 8 weeks' average × trend (last 4 weeks against the
  4 before, clamped to 0.5–2), times lead time + review period, plus safety
  stock, at least reorder point + 1, less what is available, in transit and
  already on order. A store is refilled from the main warehouse when the
  warehouse can spare it above its own reorder point, otherwise purchased.
- A buyer approves suggestions into transfer orders (one per source and
  destination) or purchase requests (one per location)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import (
    Case,
    DecimalField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Ceil, Coalesce, Greatest, Least, Round
from django.db.models.lookups import GreaterThan, LessThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.errors import DomainError, InvalidTransition
from inventory.enums import (
    PURCHASE_TRANSITIONS,
    SUGGESTION_TRANSITIONS,
    AlertKind,
    AlertStatus,
    InventoryErrorCode,
    LocationKind,
    MovementKind,
    PolicyMethod,
    PurchaseStatus,
    StockErrorCode,
    SuggestionKind,
    SuggestionStatus,
    TransferStatus,
)
from inventory.locks import job_lock, purchase_request_lock, suggestions_lock
from inventory.models import (
    Location,
    PurchaseRequest,
    PurchaseRequestLine,
    ReplenishmentSuggestion,
    Sku,
    StockAlert,
    StockLevel,
    StockMovement,
    StockPolicy,
    TransferLine,
)
from inventory.services import Delta, levels_locked, stock_post
from inventory.transfers import document_number, transfer_create

SERVICE_LEVEL_Z = Decimal("1.65")  # ≈ 95 % of lead times without a stock-out
TREND_WEEKS = 8  # the sales window for suggestions: 4 recent weeks against 4 earlier
TREND_MIN, TREND_MAX = Decimal("0.50"), Decimal("2.00")
ALERTS_LOCK_KEY = 74_010_001  # pg_advisory_xact_lock key of the alerts job


# --- strategies (plain inputs, plain outputs) ----------------------------------------------

@dataclass(frozen=True)
class ReorderLevels:
    safety_stock: int
    reorder_point: int
    avg_daily_sales: Decimal


def reorder_levels(*, weekly_sales: list[int], lead_time_days: int) -> ReorderLevels:
    """Safety stock and reorder point from weekly sales (zero weeks included)."""
    weeks = len(weekly_sales)
    if weeks == 0:
        return ReorderLevels(0, 0, Decimal("0.000"))
    total = sum(weekly_sales)
    mean = Decimal(total) / weeks
    variance = max(Decimal(sum(q * q for q in weekly_sales)) / weeks - mean * mean, Decimal(0))
    sigma = variance.sqrt()
    lead_weeks = Decimal(lead_time_days) / 7
    safety = int((SERVICE_LEVEL_Z * sigma * lead_weeks.sqrt()).to_integral_value(ROUND_CEILING))
    avg_daily = Decimal(total) / (weeks * 7)
    lead_demand = int((avg_daily * lead_time_days).to_integral_value(ROUND_CEILING))
    return ReorderLevels(safety, safety + lead_demand,
                         avg_daily.quantize(Decimal("0.001"), ROUND_HALF_UP))


def sales_trend(*, recent: int, prior: int) -> Decimal:
    """Units sold in the last 4 weeks against the 4 before, clamped."""
    if prior == 0:
        return TREND_MAX if recent > 0 else Decimal("1.00")
    return min(max(Decimal(recent) / Decimal(prior), TREND_MIN), TREND_MAX)


def replenishment_quantity(*, recent: int, prior: int, lead_time_days: int, review_days: int,
                           safety_stock: int, reorder_point: int, available: int,
                           in_transit: int, on_order: int) -> int:
    """Units to order (0: nothing needed). The SQL in `_suggestion_rows` is this."""
    forecast = Decimal(recent + prior) / (TREND_WEEKS * 7) * sales_trend(recent=recent,
                                                                         prior=prior)
    need = int((forecast * (lead_time_days + review_days)).to_integral_value(ROUND_CEILING))
    target = max(need + safety_stock, reorder_point + 1)
    return max(target - available - in_transit - on_order, 0)


# --- policies ------------------------------------------------------------------------------

@transaction.atomic
def stock_policy_set(*, sku: Sku, location: Location, safety_stock: int, reorder_point: int,
                     lead_time_days: int = 7, review_days: int = 7, actor=None) -> StockPolicy:
    """Set safety stock and reorder point by hand."""
    if reorder_point < safety_stock:
        raise DomainError(_("The reorder point cannot be below the safety stock."),
                          code="invalid_policy", status_code=400,
                          fields={"reorder_point": [_("Must be at least the safety stock.")]})
    policy, _created = StockPolicy.objects.select_for_update().get_or_create(
        sku=sku, location=location)
    policy.method = PolicyMethod.MANUAL
    policy.safety_stock, policy.reorder_point = safety_stock, reorder_point
    policy.lead_time_days, policy.review_days = lead_time_days, review_days
    policy.save()
    audit_record(actor=actor, action="stock_policy.set", target=policy,
                 data={"safety_stock": safety_stock, "reorder_point": reorder_point,
                       "lead_time_days": lead_time_days})
    return policy


def _week_start(now) -> datetime:
    local = timezone.localtime(now)
    monday = local.date() - timedelta(days=local.weekday())
    return timezone.make_aware(datetime.combine(monday, time.min))


@transaction.atomic
def stock_policies_compute(*, policies: QuerySet[StockPolicy] | None = None, now=None,
                           actor=None) -> int:
    """Recompute the policies set to `computed` from their last full weeks of
    sales (calendar weeks, Monday to Sunday, Asia/Shanghai)."""
    from django.db.models.functions import TruncWeek

    now = now or timezone.now()
    qs = (StockPolicy.objects.all() if policies is None else policies).filter(
        method=PolicyMethod.COMPUTED)
    targets = list(qs.select_for_update().order_by("pk"))
    if not targets:
        return 0
    until = _week_start(now)
    longest = max(p.history_weeks for p in targets)
    since = until - timedelta(weeks=longest)
    locations = {p.location_id for p in targets}
    skus = {p.sku_id for p in targets}
    weekly: dict[tuple[int, int], dict] = defaultdict(dict)
    rows = (StockMovement.objects
            .filter(kind=MovementKind.CONSUME, created_at__gte=since, created_at__lt=until,
                    location_id__in=locations, sku_id__in=skus)
            .annotate(week=TruncWeek("created_at")).values("sku_id", "location_id", "week")
            .annotate(units=-Sum("on_hand_delta")).order_by())
    for row in rows:
        weekly[(row["sku_id"], row["location_id"])][row["week"].date()] = row["units"]
    for policy in targets:
        first = (until - timedelta(weeks=policy.history_weeks)).date()
        sales = weekly.get((policy.sku_id, policy.location_id), {})
        series = [sales.get(first + timedelta(weeks=i), 0) for i in range(policy.history_weeks)]
        levels = reorder_levels(weekly_sales=series, lead_time_days=policy.lead_time_days)
        policy.safety_stock, policy.reorder_point = levels.safety_stock, levels.reorder_point
        policy.avg_daily_sales, policy.computed_at = levels.avg_daily_sales, now
    StockPolicy.objects.bulk_update(
        targets, ["safety_stock", "reorder_point", "avg_daily_sales", "computed_at"],
        batch_size=1000)
    if actor is not None:
        audit_record(actor=actor, action="stock_policy.compute", target=targets[0],
                     data={"policies": len(targets)})
    return len(targets)


@transaction.atomic
def stock_policies_create_computed(*, pairs: list[tuple[int, int]], lead_time_days: int = 7,
                                   history_weeks: int = 8, now=None) -> int:
    """Create computed policies for SKU-locations that have none, then compute them."""
    StockPolicy.objects.bulk_create(
        [StockPolicy(sku_id=sku_id, location_id=location_id, method=PolicyMethod.COMPUTED,
                     lead_time_days=lead_time_days, history_weeks=history_weeks)
         for sku_id, location_id in pairs], ignore_conflicts=True, batch_size=1000)
    by_location: dict[int, list[int]] = defaultdict(list)
    for sku_id, location_id in pairs:
        by_location[location_id].append(sku_id)
    condition = Q(pk__in=[])
    for location_id, sku_ids in by_location.items():
        condition |= Q(location_id=location_id, sku_id__in=sku_ids)
    return stock_policies_compute(policies=StockPolicy.objects.filter(condition), now=now)


# --- the alerts job --------------------------------------------------------------------------

def _level_value(expression) -> Subquery:
    return Subquery(StockLevel.objects.filter(sku_id=OuterRef("sku_id"),
                                              location_id=OuterRef("location_id"))
                    .values(v=expression)[:1], output_field=IntegerField())


def _available():
    return Coalesce(_level_value(F("on_hand") - F("reserved")), Value(0))


def policies_low() -> QuerySet[StockPolicy]:
    """SKU-locations at or below their reorder point, with `available`."""
    return StockPolicy.objects.annotate(available=_available()).filter(
        available__lte=F("reorder_point"))


def _consumed(since, until) -> Subquery:
    return Coalesce(Subquery(
        StockMovement.objects.filter(kind=MovementKind.CONSUME, sku_id=OuterRef("sku_id"),
                                     location_id=OuterRef("location_id"),
                                     created_at__gte=since, created_at__lt=until)
        .order_by().values("sku_id").annotate(n=-Sum("on_hand_delta")).values("n")[:1],
        output_field=IntegerField()), Value(0))


class _Decimal(Cast):
    """Cast to a decimal so that `/` divides exactly (PostgreSQL numeric).

    On SQLite `CAST(… AS decimal)` has NUMERIC affinity, which leaves an
    integer an integer, so a division would truncate (84 / 56 = 1); casting
    to REAL there is the only way to get a fractional quotient."""

    def __init__(self, expression):
        super().__init__(expression, output_field=DecimalField(max_digits=16, decimal_places=6))

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template="CAST(%(expressions)s AS REAL)",
                           **extra_context)


def _suggestion_rows(now) -> list[dict]:
    """Open alerts without a draft suggestion, priced in SQL (see module doc)."""
    D = DecimalField(max_digits=16, decimal_places=6)  # noqa: N806
    half = timedelta(weeks=TREND_WEEKS // 2)
    main = Location.objects.filter(is_main_warehouse=True, is_active=True).first()
    open_alert = StockAlert.objects.filter(status=AlertStatus.OPEN, sku_id=OuterRef("sku_id"),
                                           location_id=OuterRef("location_id"))
    draft = ReplenishmentSuggestion.objects.filter(status=SuggestionStatus.DRAFT,
                                                   sku_id=OuterRef("sku_id"),
                                                   location_id=OuterRef("location_id"))
    on_transfer = (TransferLine.objects
                   .filter(sku_id=OuterRef("sku_id"), transfer__destination_id=OuterRef(
                       "location_id"), transfer__status=TransferStatus.DRAFT)
                   .order_by().values("sku_id").annotate(n=Sum("quantity")).values("n")[:1])
    on_purchase = (PurchaseRequestLine.objects
                   .filter(sku_id=OuterRef("sku_id"), request__location_id=OuterRef(
                       "location_id"), request__status__in=[PurchaseStatus.REQUESTED,
                                                            PurchaseStatus.ORDERED])
                   .order_by().values("sku_id").annotate(n=Sum("quantity")).values("n")[:1])
    zero = Value(0)
    qs = (StockPolicy.objects.filter(Exists(open_alert)).exclude(Exists(draft))
          .annotate(
              available=_available(),
              in_transit=Coalesce(_level_value(F("in_transit")), zero),
              on_order=(Coalesce(Subquery(on_transfer, output_field=IntegerField()), zero)
                        + Coalesce(Subquery(on_purchase, output_field=IntegerField()), zero)),
              recent=_consumed(now - half, now),
              prior=_consumed(now - 2 * half, now - half),
              location_kind=F("location__kind"))
          .annotate(
              trend=Case(
                  When(Q(prior=0) & Q(recent__gt=0), then=Value(TREND_MAX)),
                  When(prior=0, then=Value(Decimal("1.00"))),
                  default=Greatest(Least(_Decimal(F("recent")) / _Decimal(F("prior")),
                                         Value(TREND_MAX)), Value(TREND_MIN)),
                  output_field=D),
              daily=_Decimal(F("recent") + F("prior")) / Value(Decimal(TREND_WEEKS * 7)))
          .annotate(
              target=Greatest(
                  Cast(Ceil(F("daily") * F("trend") * (F("lead_time_days") + F("review_days"))),
                       IntegerField()) + F("safety_stock"),
                  F("reorder_point") + 1))
          .annotate(quantity=F("target") - F("available") - F("in_transit") - F("on_order"))
          .filter(quantity__gt=0))
    if main is not None:
        wh_free = (Coalesce(Subquery(StockLevel.objects.filter(sku_id=OuterRef("sku_id"),
                                                               location=main)
                                     .values(v=F("on_hand") - F("reserved"))[:1],
                                     output_field=IntegerField()), zero)
                   - Coalesce(Subquery(StockPolicy.objects.filter(sku_id=OuterRef("sku_id"),
                                                                  location=main)
                                       .values("reorder_point")[:1],
                                       output_field=IntegerField()), zero))
        qs = qs.annotate(kind=Case(
            When(Q(location_kind=LocationKind.STORE) & ~Q(location_id=main.pk)
                 & Q(GreaterThan(wh_free, F("quantity") - 1)),
                 then=Value(SuggestionKind.TRANSFER)),
            default=Value(SuggestionKind.PURCHASE)))
    else:
        qs = qs.annotate(kind=Value(SuggestionKind.PURCHASE))
    rows = list(qs.order_by("location_id", "sku_id").values(
                          "sku_id", "location_id", "kind", "quantity", "available",
                          "in_transit", "lead_time_days", "recent", "prior",
                          avg=Round(F("daily"), 3), trend_value=Round(F("trend"), 2)))
    for row in rows:
        row["source_id"] = main.pk if row["kind"] == SuggestionKind.TRANSFER else None
    return rows


def inventory_alerts_run(*, now=None) -> dict[str, int]:
    """One run of the `inventory_alerts` job (safe to run twice, or on two
    workers at once). A fixed number of statements, whatever the catalogue."""
    now = now or timezone.now()
    with transaction.atomic():
        job_lock(ALERTS_LOCK_KEY)
        open_alerts = StockAlert.objects.filter(status=AlertStatus.OPEN)
        still_low = policies_low().filter(sku_id=OuterRef("sku_id"),
                                          location_id=OuterRef("location_id"))
        closed = (open_alerts.exclude(Exists(still_low))
                  .update(status=AlertStatus.CLOSED, closed_at=now, checked_at=now,
                          available=_available()))
        escalated = (open_alerts.filter(kind=AlertKind.LOW_STOCK)
                     .filter(LessThanOrEqual(_available(), 0)).count())  # kind set below
        policy_rop = Subquery(StockPolicy.objects.filter(sku_id=OuterRef("sku_id"),
                                                         location_id=OuterRef("location_id"))
                              .values("reorder_point")[:1])
        refreshed = open_alerts.update(
            available=_available(), reorder_point=policy_rop, checked_at=now,
            kind=Case(When(GreaterThan(_available(), 0), then=Value(AlertKind.LOW_STOCK)),
                      default=Value(AlertKind.OUT_OF_STOCK)))
        has_open = StockAlert.objects.filter(status=AlertStatus.OPEN, sku_id=OuterRef("sku_id"),
                                             location_id=OuterRef("location_id"))
        # A fixed insert order: two runs racing on the unique index never deadlock.
        new = list(policies_low().exclude(Exists(has_open)).order_by("location_id", "sku_id")
                   .values_list("sku_id", "location_id", "available", "reorder_point"))
        StockAlert.objects.bulk_create(
            [StockAlert(sku_id=sku_id, location_id=location_id,
                        kind=AlertKind.LOW_STOCK if available > 0 else AlertKind.OUT_OF_STOCK,
                        available=available, reorder_point=rop, opened_at=now, checked_at=now)
             for sku_id, location_id, available, rop in new],
            ignore_conflicts=True, batch_size=5000)
        dismissed = (ReplenishmentSuggestion.objects.filter(status=SuggestionStatus.DRAFT)
                     .exclude(Exists(has_open))
                     .update(status=SuggestionStatus.DISMISSED, decided_at=now, updated_at=now))
        rows = _suggestion_rows(now)
        ReplenishmentSuggestion.objects.bulk_create(
            [ReplenishmentSuggestion(
                sku_id=row["sku_id"], location_id=row["location_id"], kind=row["kind"],
                source_id=row["source_id"], quantity=row["quantity"],
                available=row["available"], in_transit=row["in_transit"],
                avg_daily_sales=row["avg"], trend=row["trend_value"],
                lead_time_days=row["lead_time_days"], created_at=now, updated_at=now)
             for row in rows], ignore_conflicts=True, batch_size=5000)
        # What this run really inserted (a racing run's rows were skipped).
        opened = StockAlert.objects.filter(opened_at=now, status=AlertStatus.OPEN).count()
        drafted = ReplenishmentSuggestion.objects.filter(created_at=now).count()
    return {"alerts_opened": opened, "alerts_closed": closed, "alerts_escalated": escalated,
            "alerts_open": refreshed + opened,
            "suggestions_drafted": drafted, "suggestions_dismissed": dismissed}


# --- buyer decisions ---------------------------------------------------------------------------

def _check_suggestion(suggestion: ReplenishmentSuggestion, to_status: str) -> None:
    if to_status not in SUGGESTION_TRANSITIONS[suggestion.status]:
        raise InvalidTransition(
            _("Suggestion for %(sku)s at %(location)s is already %(status)s.") % {
                "sku": suggestion.sku.code, "location": suggestion.location.name,
                "status": suggestion.get_status_display()},
            code=InventoryErrorCode.INVALID_TRANSITION)


@dataclass(frozen=True)
class ApprovalResult:
    transfers: list
    purchase_requests: list


@transaction.atomic
def suggestions_approve(*, suggestions: list[ReplenishmentSuggestion], actor,
                        quantities: dict[int, int] | None = None) -> ApprovalResult:
    """Turn draft suggestions into one draft transfer per (source, destination)
    and one purchase request per location. `quantities` (suggestion id →
    units) overrides the suggested quantity."""
    locked = suggestions_lock(suggestion_ids=[s.pk for s in suggestions])
    quantities = quantities or {}
    for suggestion in locked:
        _check_suggestion(suggestion, SuggestionStatus.APPROVED)
        qty = quantities.get(suggestion.pk, suggestion.quantity)
        if isinstance(qty, bool) or not isinstance(qty, int) or qty <= 0:
            raise DomainError(_("Quantities must be whole numbers above zero."),
                              code=StockErrorCode.INVALID_QUANTITY, status_code=400,
                              fields={f"quantity.{suggestion.pk}": [_("Must be above zero.")]})
        suggestion.quantity = qty
    transfers_by_route: dict[tuple[int, int], list] = defaultdict(list)
    purchases_by_location: dict[int, list] = defaultdict(list)
    for suggestion in locked:
        if suggestion.kind == SuggestionKind.TRANSFER:
            transfers_by_route[(suggestion.source_id, suggestion.location_id)].append(suggestion)
        else:
            purchases_by_location[suggestion.location_id].append(suggestion)
    now = timezone.now()
    transfers, requests = [], []
    for group in transfers_by_route.values():
        transfer = transfer_create(
            source=group[0].source, destination=group[0].location, actor=actor,
            lines={s.sku: s.quantity for s in group},
            reason=_("replenishment (approved suggestions)"))
        transfers.append(transfer)
        for s in group:
            s.transfer = transfer
    for group in purchases_by_location.values():
        request = purchase_request_create(location=group[0].location, actor=actor,
                                          lines={s.sku: s.quantity for s in group},
                                          note=_("replenishment (approved suggestions)"))
        requests.append(request)
        for s in group:
            s.purchase_request = request
    for s in locked:
        s.status, s.decided_at, s.decided_by, s.updated_at = (
            SuggestionStatus.APPROVED, now, actor if getattr(actor, "pk", None) else None, now)
    ReplenishmentSuggestion.objects.bulk_update(
        locked, ["status", "quantity", "decided_at", "decided_by", "updated_at", "transfer",
                 "purchase_request"])
    for s in locked:
        audit_record(actor=actor, action="suggestion.approve", target=s,
                     data={"quantity": s.quantity, "kind": s.kind})
    return ApprovalResult(transfers=transfers, purchase_requests=requests)


@transaction.atomic
def suggestion_quantity_set(*, suggestion: ReplenishmentSuggestion, quantity: int, actor
                            ) -> ReplenishmentSuggestion | None:
    """A buyer adjusts a draft suggestion's quantity before approving it.
    Returns None (and changes nothing) when it is no longer a draft."""
    locked = suggestions_lock(suggestion_ids=[suggestion.pk])
    if not locked or locked[0].status != SuggestionStatus.DRAFT:
        return None
    current = locked[0]
    if current.quantity != quantity:
        old = current.quantity
        current.quantity, current.updated_at = quantity, timezone.now()
        current.save(update_fields=["quantity", "updated_at"])
        audit_record(actor=actor, action="suggestion.quantity", target=current,
                     data={"from": old, "to": quantity})
    return current


@transaction.atomic
def suggestions_dismiss(*, suggestions: list[ReplenishmentSuggestion], actor,
                        reason: str = "") -> int:
    locked = suggestions_lock(suggestion_ids=[s.pk for s in suggestions])
    now = timezone.now()
    for s in locked:
        _check_suggestion(s, SuggestionStatus.DISMISSED)
        s.status, s.decided_at, s.updated_at = SuggestionStatus.DISMISSED, now, now
        s.decided_by = actor if getattr(actor, "pk", None) else None
        s.save(update_fields=["status", "decided_at", "decided_by", "updated_at"])
        audit_record(actor=actor, action="suggestion.dismiss", target=s, reason=reason)
    return len(locked)


# --- purchase requests ---------------------------------------------------------------------------

@transaction.atomic
def purchase_request_create(*, location: Location, lines: dict[Sku, int], actor=None,
                            note: str = "") -> PurchaseRequest:
    if not lines or any(qty <= 0 for qty in lines.values()):
        raise DomainError(_("A purchase request needs at least one line above zero."),
                          code=InventoryErrorCode.EMPTY_DOCUMENT, status_code=400,
                          fields={"lines": [_("Add a SKU with a quantity above zero.")]})
    request = PurchaseRequest.objects.create(
        number=document_number("PR"), location=location, note=note[:255],
        created_by=actor if getattr(actor, "pk", None) else None)
    PurchaseRequestLine.objects.bulk_create(
        PurchaseRequestLine(request=request, sku=sku, quantity=qty) for sku, qty in lines.items())
    audit_record(actor=actor, action="purchase_request.create", target=request, reason=note,
                 data={"lines": {sku.code: qty for sku, qty in lines.items()}})
    return request


def _check_purchase(request: PurchaseRequest, to_status: str) -> None:
    if to_status not in PURCHASE_TRANSITIONS[request.status]:
        raise InvalidTransition(
            _("Purchase request %(number)s is %(status)s and cannot become %(to)s.") % {
                "number": request.number, "status": request.get_status_display(),
                "to": PurchaseStatus(to_status).label},
            code=InventoryErrorCode.INVALID_TRANSITION)


@transaction.atomic
def purchase_request_order(*, request: PurchaseRequest, actor=None) -> PurchaseRequest:
    request = purchase_request_lock(request_id=request.pk)
    _check_purchase(request, PurchaseStatus.ORDERED)
    request.status, request.ordered_at = PurchaseStatus.ORDERED, timezone.now()
    request.save(update_fields=["status", "ordered_at"])
    audit_record(actor=actor, action="purchase_request.order", target=request)
    return request


@transaction.atomic
def purchase_request_receive(*, request: PurchaseRequest, actor=None,
                             received: dict[int, int] | None = None) -> PurchaseRequest:
    """Goods in: each line's received quantity (default: as ordered) is a
    receipt movement at the request's location."""
    request = purchase_request_lock(request_id=request.pk)
    _check_purchase(request, PurchaseStatus.RECEIVED)
    lines = list(request.lines.select_related("sku"))
    received = received or {}
    for line in lines:
        qty = received.get(line.sku_id, line.received_quantity)
        qty = line.quantity if qty is None else qty
        if isinstance(qty, bool) or not isinstance(qty, int) or qty < 0:
            raise DomainError(_("Received quantities must be whole numbers, zero or more."),
                              code=StockErrorCode.INVALID_QUANTITY, status_code=400,
                              fields={f"received.{line.sku.code}": [_("Out of range.")]})
        line.received_quantity = qty
    levels = levels_locked({(line.sku_id, request.location_id) for line in lines}, create=True)
    stock_post(levels=levels, kind=MovementKind.RECEIPT, actor=actor, reference=request.number,
               reason=_("purchase %(number)s") % {"number": request.number},
               deltas=[Delta(line.sku_id, request.location_id, on_hand=line.received_quantity)
                       for line in lines])
    PurchaseRequestLine.objects.bulk_update(lines, ["received_quantity"])
    request.status, request.received_at = PurchaseStatus.RECEIVED, timezone.now()
    request.save(update_fields=["status", "received_at"])
    audit_record(actor=actor, action="purchase_request.receive", target=request,
                 data={"units": sum(line.received_quantity for line in lines)})
    return request


@transaction.atomic
def purchase_request_cancel(*, request: PurchaseRequest, actor=None,
                            reason: str = "") -> PurchaseRequest:
    request = purchase_request_lock(request_id=request.pk)
    _check_purchase(request, PurchaseStatus.CANCELLED)
    request.status = PurchaseStatus.CANCELLED
    request.save(update_fields=["status"])
    audit_record(actor=actor, action="purchase_request.cancel", target=request, reason=reason)
    return request

