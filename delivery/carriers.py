"""Express carriers (002 四(二)): carrier choice by price and record,
shipments with waybills, tracking events in (API and CSV import), and
stalled shipments (no update for N hours: flag, tell the customer, open a
customer-service ticket, once per stall)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.errors import BusinessRuleViolation, DomainError
from customer_service.models import Ticket
from customer_service.services import ticket_open
from delivery import policy, selectors
from delivery.enums import (
    SHIPMENT_EVENT_STATUS,
    SHIPMENT_TERMINAL,
    SHIPMENT_TRANSITIONS,
    DeliveryErrorCode,
    EventSource,
    ShipmentEventKind,
    ShipmentStatus,
)
from delivery.locks import shipment_lock
from delivery.models import Carrier, CarrierRate, Shipment, ShipmentEvent
from delivery.notifications import shipment_delayed_notification
from delivery.policy import CarrierCandidate, CarrierOption, CarrierRecord
from delivery.services import TO_DISPATCHED
from sales.enums import Fulfilment, OrderStatus
from sales.locks import order_lock
from sales.models import Order, OrderLine
from sales.services import order_advance

RECORD_DAYS = 180
STALL_ACTOR = "stalled_shipments"


# --- carrier record and choice ----------------------------------------------------------------


def carrier_records(*, carrier_ids=None, since: datetime | None = None
                    ) -> dict[int, CarrierRecord]:
    """Damage, loss, complaint and lateness counts from our own shipments."""
    since = since or timezone.now() - timedelta(days=RECORD_DAYS)
    qs = Shipment.objects.filter(shipped_at__gte=since)
    if carrier_ids is not None:
        qs = qs.filter(carrier_id__in=carrier_ids)
    rows = qs.values("carrier_id").annotate(
        shipments=Count("pk"), damaged=Count("pk", filter=Q(damaged=True)),
        lost=Count("pk", filter=Q(status=ShipmentStatus.LOST)),
        complaints=Count("pk", filter=Q(complaint=True)),
        late=Count("pk", filter=Q(delivered_at__gt=F("promised_by"))))
    return {row.pop("carrier_id"): CarrierRecord(**row) for row in rows}


def _rate_for(rates: list[CarrierRate], province: str) -> CarrierRate | None:
    by_province = {r.province: r for r in rates}
    return by_province.get(province) or by_province.get("")


def _promise_for(carrier: Carrier, province: str, city: str) -> int:
    best = None
    for cover in carrier.coverage.all():
        if (cover.province == province and cover.city in ("", city) and cover.promise_hours
                and (cover.city == city or best is None)):
            best = cover.promise_hours
    return best or carrier.default_promise_hours


def carrier_suggest(*, province: str, city: str, weight_grams: int, cold_chain: bool = False,
                    today: date | None = None) -> list[CarrierOption]:
    """Qualified carriers covering the destination, best first (price raised
    by their record; policy.carrier_rank)."""
    carriers = list(selectors.carriers_serving(province=province, city=city, today=today,
                                               cold_chain=cold_chain))
    records = carrier_records(carrier_ids=[c.pk for c in carriers])
    candidates = []
    for carrier in carriers:
        rate = _rate_for(list(carrier.rates.all()), province)
        if rate is None:
            continue
        candidates.append(CarrierCandidate(
            carrier_id=carrier.pk, code=carrier.code, name=carrier.name,
            price=policy.carrier_price(first_kg=rate.first_kg, extra_kg=rate.extra_kg,
                                       weight_grams=weight_grams),
            promise_hours=_promise_for(carrier, province, city),
            record=records.get(carrier.pk, CarrierRecord(0, 0, 0, 0, 0))))
    return policy.carrier_rank(candidates)


def order_weight_grams(order: Order) -> int:
    total = OrderLine.objects.filter(order=order).aggregate(
        w=Sum(F("quantity") * F("sku__weight_grams")))["w"]
    return int(total or 0)


# --- shipments ----------------------------------------------------------------------------------


@transaction.atomic
def shipment_create(*, order: Order, waybill_no: str, actor, carrier: Carrier | None = None,
                    weight_grams: int | None = None, cold_chain: bool = False) -> Shipment:
    """Hand an express order to a carrier under a waybill: the order goes to
    `dispatched`. Without a carrier, the best suggestion is used."""
    order = order_lock(order_id=order.pk)
    if order.fulfilment != Fulfilment.EXPRESS:
        raise BusinessRuleViolation(_("Order %(number)s is not an express order.") % {
            "number": order.number}, code=DeliveryErrorCode.WRONG_FULFILMENT)
    if order.status not in TO_DISPATCHED:
        raise DomainError(_("Order %(number)s is %(status)s and cannot be shipped.") % {
            "number": order.number, "status": order.get_status_display()},
            code=DeliveryErrorCode.ORDER_NOT_OPEN)
    weight = weight_grams if weight_grams is not None else order_weight_grams(order)
    options = carrier_suggest(province=order.province, city=order.city, weight_grams=weight,
                              cold_chain=cold_chain)
    option = (options[0] if carrier is None and options
              else next((o for o in options if carrier and o.carrier_id == carrier.pk), None))
    if option is None:
        raise BusinessRuleViolation(
            _("No qualified carrier with a price serves %(where)s.") % {
                "where": f"{order.province}{order.city}"},
            code=DeliveryErrorCode.NO_CARRIER, fields={"carrier": [_("Does not serve this "
                                                                     "destination.")]})
    now = timezone.now()
    try:
        with transaction.atomic():
            shipment = Shipment.objects.create(
                order=order, carrier_id=option.carrier_id, waybill_no=waybill_no,
                weight_grams=weight, price=option.price, cold_chain=cold_chain, shipped_at=now,
                promised_by=now + timedelta(hours=option.promise_hours), last_event_at=now)
    except IntegrityError as exc:
        raise DomainError(_("This carrier already has waybill %(no)s.") % {"no": waybill_no},
                          code="waybill_exists",
                          fields={"waybill_no": [_("Already used.")]}) from exc
    for step in TO_DISPATCHED[order.status]:
        order_advance(order=order, to_status=step, actor=actor,
                      reason=_("Shipped with %(carrier)s, waybill %(no)s") % {
                          "carrier": option.name, "no": waybill_no})
    audit_record(actor=actor, action="shipment.create", target=shipment,
                 data={"order": order.number, "carrier": option.code, "price": str(option.price)})
    return shipment


def _apply_event(shipment: Shipment, event: ShipmentEvent, *, actor_label: str) -> None:
    fields = ["last_event_at", "stalled_at"]
    if event.occurred_at >= shipment.last_event_at:
        shipment.last_event_at = event.occurred_at
    shipment.stalled_at = None
    if event.kind == ShipmentEventKind.DAMAGED:
        shipment.damaged = True
        fields.append("damaged")
    target = SHIPMENT_EVENT_STATUS[event.kind]
    latest = _latest_status_time(shipment, exclude=event.pk)
    if target and target in SHIPMENT_TRANSITIONS[shipment.status] \
            and (latest is None or event.occurred_at >= latest):
        shipment.status = target
        fields.append("status")
        if target == ShipmentStatus.DELIVERED:
            shipment.delivered_at = event.occurred_at
            fields.append("delivered_at")
            if shipment.order.status == OrderStatus.DISPATCHED:
                order_advance(order=shipment.order, to_status=OrderStatus.DELIVERED,
                              actor_label=actor_label,
                              reason=_("Delivered by %(carrier)s") % {
                                  "carrier": shipment.carrier.name})
    shipment.save(update_fields=fields)


def _latest_status_time(shipment: Shipment, *, exclude: int) -> datetime | None:
    """When the newest status-moving event happened (older news does not
    move the status back)."""
    kinds = [k for k, status in SHIPMENT_EVENT_STATUS.items() if status]
    return (shipment.events.filter(kind__in=kinds).exclude(pk=exclude)
            .order_by("-occurred_at").values_list("occurred_at", flat=True).first())


def shipment_event_record(*, shipment: Shipment, kind: str, occurred_at: datetime,
                          source: str, actor=None, actor_label: str = "", location: str = "",
                          description: str = "") -> tuple[ShipmentEvent, bool]:
    """Record one carrier tracking event; the same (kind, time) again is a
    no-op (returns the first, created=False). Moves the shipment's status
    (only forward in time, never out of delivered/returned/lost) and, on
    delivery, the order."""
    label = actor_label or getattr(actor, "username", "")
    with transaction.atomic():
        order_lock(order_id=shipment.order_id)
        shipment = shipment_lock(shipment_id=shipment.pk)
        existing = ShipmentEvent.objects.filter(shipment=shipment, kind=kind,
                                                occurred_at=occurred_at).first()
        if existing is not None:
            return existing, False
        event = ShipmentEvent.objects.create(shipment=shipment, kind=kind,
                                             occurred_at=occurred_at, location=location[:100],
                                             description=description[:255], source=source)
        _apply_event(shipment, event, actor_label=label)
    return event, True


@transaction.atomic
def shipment_complaint_record(*, shipment: Shipment, actor, note: str = "") -> Shipment:
    shipment = shipment_lock(shipment_id=shipment.pk)
    shipment.complaint = True
    shipment.save(update_fields=["complaint"])
    audit_record(actor=actor, action="shipment.complaint", target=shipment, reason=note)
    return shipment


# --- CSV import ---------------------------------------------------------------------------------

IMPORT_COLUMNS = ("carrier", "waybill_no", "kind", "occurred_at", "location", "description")
REQUIRED_COLUMNS = ("carrier", "waybill_no", "kind", "occurred_at")
MAX_IMPORT_ROWS = 20_000


@dataclass
class ImportResult:
    rows: int
    created: int
    duplicates: int


def _parse_time(text: str) -> datetime | None:
    try:
        value = parse_datetime(text.strip().replace("/", "-"))
    except ValueError:
        return None
    if value is None:
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def shipment_events_parse(content: bytes | str) -> tuple[list[dict], dict[str, list[str]]]:
    """Read a tracking CSV (carrier, waybill_no, kind, occurred_at[,
    location, description]). Returns (rows, errors by `rows.N.column`);
    row numbers are the file's line numbers."""
    errors: dict[str, list[str]] = {}
    try:
        text = content.decode("utf-8-sig") if isinstance(content, bytes) else content
        reader = csv.DictReader(io.StringIO(text))
        headers = [h.strip().lower() for h in (reader.fieldnames or [])]
    except (UnicodeDecodeError, csv.Error):
        return [], {"file": [_("The file is not a UTF-8 CSV file.")]}
    missing = [c for c in REQUIRED_COLUMNS if c not in headers]
    if missing:
        return [], {"file": [_("Missing columns: %(cols)s.") % {"cols": ", ".join(missing)}]}
    reader.fieldnames = headers
    carriers = {c.code: c.pk for c in Carrier.objects.all()}
    kinds = set(ShipmentEventKind.values)
    parsed, keys = [], []
    latest = timezone.now() + timedelta(hours=1)
    try:
        raw_rows = list(reader)
    except csv.Error:
        return [], {"file": [_("The file is not a valid CSV file.")]}
    if len(raw_rows) > MAX_IMPORT_ROWS:
        return [], {"file": [_("At most %(n)d rows per file.") % {"n": MAX_IMPORT_ROWS}]}
    for line, raw in enumerate(raw_rows, start=2):
        row = {k: (v or "").strip() for k, v in raw.items() if k}
        prefix = f"rows.{line}"
        carrier_id = carriers.get(row.get("carrier", ""))
        if carrier_id is None:
            errors[f"{prefix}.carrier"] = [_("Unknown carrier.")]
        if row.get("kind") not in kinds:
            errors[f"{prefix}.kind"] = [_("Unknown event kind.")]
        occurred = _parse_time(row.get("occurred_at", ""))
        if occurred is None:
            errors[f"{prefix}.occurred_at"] = [_("Not a date and time (ISO 8601).")]
        elif occurred > latest:
            errors[f"{prefix}.occurred_at"] = [_("In the future.")]
        if not row.get("waybill_no"):
            errors[f"{prefix}.waybill_no"] = [_("Required.")]
        if len(row.get("location", "")) > 100 or len(row.get("description", "")) > 255:
            errors[f"{prefix}.description"] = [_("Too long.")]
        parsed.append({"line": line, "carrier_id": carrier_id, "waybill_no": row.get("waybill_no"),
                       "kind": row.get("kind"), "occurred_at": occurred,
                       "location": row.get("location", ""),
                       "description": row.get("description", "")})
        keys.append((carrier_id, row.get("waybill_no")))
    shipments = {(s.carrier_id, s.waybill_no): s.pk for s in Shipment.objects.filter(
        waybill_no__in={k[1] for k in keys if k[1]})}
    for row in parsed:
        if row["carrier_id"] is not None and row["waybill_no"]:
            row["shipment_id"] = shipments.get((row["carrier_id"], row["waybill_no"]))
            if row["shipment_id"] is None:
                errors[f"rows.{row['line']}.waybill_no"] = [_("No such shipment with this "
                                                             "carrier.")]
    if not parsed and not errors:
        errors["file"] = [_("The file has no rows.")]
    return parsed, errors


def shipment_events_import(*, content: bytes | str, actor) -> ImportResult:
    """All or nothing: any row error refuses the whole file (400 with the
    row errors); a clean file is applied in one transaction. Importing the
    same file again creates nothing new."""
    rows, errors = shipment_events_parse(content)
    if errors:
        raise DomainError(_("The file has errors; nothing was imported."),
                          code=DeliveryErrorCode.IMPORT_INVALID, status_code=400, fields=errors)
    created = 0
    with transaction.atomic():
        shipments = {s.pk: s for s in Shipment.objects.filter(
            pk__in={r["shipment_id"] for r in rows})}
        # Orders, then shipments, in pk order (delivery.locks).
        rows.sort(key=lambda r: (shipments[r["shipment_id"]].order_id, r["shipment_id"],
                                 r["occurred_at"]))
        for row in rows:
            _event, new = shipment_event_record(
                shipment=shipments[row["shipment_id"]], kind=row["kind"],
                occurred_at=row["occurred_at"], source=EventSource.CSV, actor=actor,
                location=row["location"], description=row["description"])
            created += int(new)
        audit_record(actor=actor, action="shipment.import", target=actor,
                     data={"rows": len(rows), "created": created})
    return ImportResult(rows=len(rows), created=created, duplicates=len(rows) - created)


# --- stalled shipments --------------------------------------------------------------------------


def shipments_flag_stalled(*, now: datetime | None = None, hours: int | None = None
                           ) -> dict[str, int]:
    """Flag shipments without a tracking event for `hours`: tell the
    customer and open a customer-service ticket, once per stall (a new event
    ends the stall; the ticket's source key names the stall)."""
    now = now or timezone.now()
    hours = hours or policy.stall_hours()
    before = now - timedelta(hours=hours)
    flagged = 0
    for shipment_id in selectors.shipments_stalled_candidates(before=before).values_list(
            "pk", flat=True):
        with transaction.atomic():
            shipment = shipment_lock(shipment_id=shipment_id)
            if (shipment.status in SHIPMENT_TERMINAL or shipment.stalled_at is not None
                    or shipment.last_event_at >= before):
                continue
            shipment.stalled_at = now
            shipment.save(update_fields=["stalled_at"])
            shipment_delayed_notification(shipment=shipment)
            order = shipment.order
            ticket_open(
                kind=Ticket.Kind.SHIPMENT_STALLED, order=order, actor_label=STALL_ACTOR,
                source_key=f"shipment-stall:{shipment.pk}:"
                           f"{int(shipment.last_event_at.timestamp())}",
                subject=_("No tracking update for %(hours)d hours: %(carrier)s %(waybill)s "
                          "(order %(number)s)") % {
                    "hours": hours, "carrier": shipment.carrier.name,
                    "waybill": shipment.waybill_no, "number": order.number},
                description=_("Last update %(at)s; the customer has been told.") % {
                    "at": timezone.localtime(shipment.last_event_at).strftime("%Y-%m-%d %H:%M")})
            audit_record(actor_label=STALL_ACTOR, action="shipment.stalled", target=shipment,
                         data={"last_event_at": shipment.last_event_at.isoformat()})
            flagged += 1
    return {"flagged": flagged}
