"""Every order write. Each public service is one transaction that locks what
it changes, writes the order's timeline (and the audit trail for staff
actions) and queues side effects only after commit."""

import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from functools import cache

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core import sql
from core.audit import audit_record
from core.errors import DomainError, InvalidTransition
from core.money import ZERO, money
from inventory.allocation import Pick
from inventory.enums import LocationKind
from inventory.models import Sku
from inventory.services import InsufficientStock, stock_consume, stock_release, stock_reserve
from sales import selectors
from sales.enums import (
    ORDER_TRANSITIONS,
    RESERVED_STATUSES,
    ExceptionReason,
    Fulfilment,
    OrderErrorCode,
    OrderStatus,
    Priority,
)
from sales.locks import order_lock
from sales.models import (
    Channel,
    Customer,
    Order,
    OrderAllocation,
    OrderEvent,
    OrderLine,
    Store,
)
from sales.review import DUPLICATE_WINDOW_MINUTES, ReviewInput, review_order
from sales.webhooks import webhook_enqueue

REVIEW_DEADLINE = timedelta(minutes=getattr(settings, "ORDER_REVIEW_MINUTES", 30))


@dataclass(frozen=True)
class LineInput:
    sku: Sku
    quantity: int
    unit_price: Decimal
    discount: Decimal = ZERO


@dataclass(frozen=True)
class OrderInput:
    external_id: str
    customer_name: str
    customer_phone: str
    customer_email: str
    lines: list[LineInput]
    province: str
    city: str
    district: str
    line1: str
    fulfilment: str
    paid_amount: Decimal
    lat: Decimal | None = None
    lng: Decimal | None = None
    window_start: object = None
    window_end: object = None
    note: str = ""
    priority: str = Priority.NORMAL


def _order_number() -> str:
    return f"RT{timezone.localdate():%y%m%d}{secrets.token_hex(4).upper()}"


def _customer_upsert_sql(*, name: str, phone: str, email: str, now) -> tuple[str, list]:
    q = sql.quoted
    text, params = sql.insert_values(Customer, CUSTOMER_FIELDS, [(name, phone, email, now)])
    return (f"{text} ON CONFLICT ({q('phone')}) DO UPDATE SET "
            f"{q('phone')} = EXCLUDED.{q('phone')} RETURNING {q('id')}", params)


def customer_upsert(*, name: str, phone: str, email: str = "") -> Customer:
    """One customer per phone number across channels (SPEC §5): one
    INSERT … ON CONFLICT statement, safe under concurrent orders. An
    existing customer keeps their name and e-mail."""
    customer = Customer(name=name, phone=phone, email=email, created_at=timezone.now())
    text, params = _customer_upsert_sql(name=name, phone=phone, email=email,
                                        now=customer.created_at)
    with sql.cursor() as cursor:
        cursor.execute(text, params)
        customer.pk = cursor.fetchone()[0]
    customer._state.adding = False
    return customer


def _event(order: Order, *, kind: str, from_status: str = "", to_status: str = "",
           actor=None, actor_label: str = "", reason: str = "", data: dict | None = None
           ) -> OrderEvent:
    return OrderEvent(order=order, kind=kind, from_status=from_status, to_status=to_status,
                      actor=actor if getattr(actor, "pk", None) else None,
                      actor_label=actor_label or getattr(actor, "username", ""),
                      reason=reason[:255], data=data or {})


def _set_status(order: Order, to_status: str, *, events: list[OrderEvent], actor=None,
                actor_label: str = "", reason: str = "", exception_reason: str = "") -> None:
    if to_status not in ORDER_TRANSITIONS[order.status]:
        raise InvalidTransition(
            f"order {order.number} cannot go from {order.status} to {to_status}",
            code=OrderErrorCode.INVALID_TRANSITION)
    events.append(_event(order, kind="status", from_status=order.status, to_status=to_status,
                         actor=actor, actor_label=actor_label,
                         reason=reason or exception_reason))
    order.status = to_status
    order.exception_reason = exception_reason if to_status == OrderStatus.EXCEPTION else ""


def _signals_sql(order: Order, *, customer: str, customer_params: list
                 ) -> tuple[str, list]:
    """SELECT of two review signals: orders to the same address in the last
    hour, and orders of the same customer and total within the duplicate
    window (not cancelled). `customer` is the SQL for the customer id."""
    q, prep = sql.quoted, sql.prep
    since_hour = order.created_at - timedelta(hours=1)
    since_duplicate = order.created_at - timedelta(minutes=DUPLICATE_WINDOW_MINUTES)
    address = f"o.{q('district')} = %s AND o.{q('line1')} = %s"
    same_order = f"o.{q('customer_id')} = {customer} AND o.{q('total')} = %s"
    total = prep(Order, "total", order.total)
    text = (f"SELECT COALESCE(SUM(CASE WHEN {address} THEN 1 ELSE 0 END), 0), "
            f"COALESCE(SUM(CASE WHEN {same_order} AND o.{q('created_at')} >= %s "
            f"AND o.{q('status')} <> %s THEN 1 ELSE 0 END), 0) "
            f"FROM {sql.table(Order)} o WHERE o.{q('created_at')} >= %s "
            f"AND (({address}) OR ({same_order}))")
    params = [order.district, order.line1, *customer_params, total,
              prep(Order, "created_at", since_duplicate), OrderStatus.CANCELLED,
              prep(Order, "created_at", since_hour), order.district, order.line1,
              *customer_params, total]
    if order.pk is not None:
        text += f" AND o.{q('id')} <> %s"
        params.append(order.pk)
    return text, params


def _review_signals(order: Order) -> tuple[int, bool]:
    text, params = _signals_sql(order, customer="%s", customer_params=[order.customer_id])
    with sql.cursor() as cursor:
        cursor.execute(text, params)
        to_address, duplicates = cursor.fetchone()
    return int(to_address), bool(duplicates)


def _intake_customer_and_signals(order: Order, data: "OrderInput") -> tuple[int, bool]:
    """Upsert the customer and read the review signals; on PostgreSQL in one
    statement that also draws the order's id (so the order row can be
    written last, with the other rows, in one statement)."""
    if connection.vendor != "postgresql":
        order.customer = customer_upsert(name=data.customer_name, phone=data.customer_phone,
                                         email=data.customer_email)
        return _review_signals(order)
    upsert, upsert_params = _customer_upsert_sql(
        name=data.customer_name, phone=data.customer_phone, email=data.customer_email,
        now=order.created_at)
    signals, signal_params = _signals_sql(order, customer="c.id", customer_params=[])
    with sql.cursor() as cursor:
        cursor.execute(
            f"WITH c AS ({upsert}) SELECT c.id, nextval(%s), s.* FROM c, LATERAL ({signals}) s",
            [*upsert_params, _order_id_sequence(), *signal_params])
        customer_id, order.pk, to_address, duplicates = cursor.fetchone()
    order.customer_id = customer_id
    return int(to_address), bool(duplicates)


@cache
def _order_id_sequence() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [Order._meta.db_table, "id"])
        return cursor.fetchone()[0]


def _review_reason(*, order: Order, channel_locations: list,
                   signals: tuple[int, bool] | None = None) -> str | None:
    """The automatic checks (one query for duplicate and address signals,
    unless the caller read them already)."""
    to_address, duplicate = signals if signals is not None else _review_signals(order)
    return review_order(ReviewInput(
        fulfilment=order.fulfilment, total=order.total, paid_amount=order.paid_amount,
        same_city_served=any(loc.city == order.city and loc.kind == LocationKind.STORE
                             for loc in channel_locations),
        orders_to_address_last_hour=to_address,
        duplicate_found=duplicate,
    ))


def _reserve(order: Order, *, lines: list[OrderLine], channel_locations: list
             ) -> list[OrderAllocation] | None:
    """Reserve the order's stock and return its allocations (not yet
    saved); None (and nothing written) when short.

    No savepoint is needed: stock_reserve raises before it writes."""
    locations = selectors.serving_locations(
        locations=channel_locations, fulfilment=order.fulfilment, city=order.city,
        lat=order.lat, lng=order.lng)
    demand: dict[int, int] = {}
    for line in lines:
        demand[line.sku_id] = demand.get(line.sku_id, 0) + line.quantity
    try:
        picks = stock_reserve(demand=demand, locations=[loc.pk for loc in locations],
                              order=order, reason=order.number)
    except InsufficientStock:
        return None
    if order.fulfilment == Fulfilment.PICKUP:
        first = next((loc for loc in locations if loc.kind == LocationKind.STORE), None)
        order.pickup_store = Store.objects.filter(location=first).first() if first else None
    return [OrderAllocation(order=order, sku_id=p.sku_id, location_id=p.location_id,
                            quantity=p.quantity) for p in picks]


def _review_and_reserve(order: Order, *, lines: list[OrderLine], events: list[OrderEvent],
                        actor=None, actor_label: str = "", skip_checks: bool = False) -> None:
    """Run the automatic checks; confirm and reserve, or flag an exception."""
    channel_locations = selectors.channel_locations(channel=order.channel)
    reason = None if skip_checks else _review_reason(order=order,
                                                     channel_locations=channel_locations)
    if reason is None:
        allocations = _reserve(order, lines=lines, channel_locations=channel_locations)
        if allocations is not None:
            OrderAllocation.objects.bulk_create(allocations)
            _set_status(order, OrderStatus.CONFIRMED, events=events, actor=actor,
                        actor_label=actor_label, reason="review passed")
            return
        reason = ExceptionReason.INSUFFICIENT_STOCK
    _set_status(order, OrderStatus.EXCEPTION, events=events, actor=actor,
                actor_label=actor_label, exception_reason=reason)


def _commit(order: Order, events: list[OrderEvent], *, old_status: str,
            fields: tuple[str, ...] = ()) -> None:
    order.save(update_fields=["status", "exception_reason", "updated_at", *fields])
    OrderEvent.objects.bulk_create(events)
    if order.status != old_status:
        webhook_enqueue(order=order, event="order.status_changed")


def order_create(*, channel: Channel, data: OrderInput, actor_label: str = "",
                 check_existing: bool = True) -> tuple[Order, bool]:
    """Take an order in: de-duplicate by external id, review, reserve.

    Returns (order, created). A second order with the same external id on the
    channel returns the existing one. Runs in the caller's transaction if any;
    there, a concurrent twin's insert surfaces as IntegrityError and the
    caller retries (the retry finds the twin's order). A caller that retries
    anyway may skip the look-up on its first attempt (`check_existing=False`):
    the unique index still refuses a second order."""
    if check_existing:
        existing = Order.objects.filter(channel=channel,
                                        external_id=data.external_id).first()
        if existing is not None:
            return existing, False
    try:
        with transaction.atomic(savepoint=False), sql.write_batch():
            return _order_insert(channel=channel, data=data, actor_label=actor_label), True
    except IntegrityError:
        if transaction.get_connection().in_atomic_block:
            raise
        existing = Order.objects.filter(channel=channel, external_id=data.external_id).first()
        if existing is None:
            raise
        return existing, False


def _order_insert(*, channel: Channel, data: OrderInput, actor_label: str) -> Order:
    """Review first, then write each row once: the order with its final
    status, its lines, the reservation, and the timeline.

    This is the order intake's hot path, so its statements are hand-written
    (`core.sql`); bench/README.md has what that bought."""
    subtotal = money(sum((line.unit_price * line.quantity for line in data.lines), ZERO))
    discount = money(sum((line.discount for line in data.lines), ZERO))
    now = timezone.now()
    order = Order(
        number=_order_number(), channel=channel, external_id=data.external_id,
        status=OrderStatus.PENDING_REVIEW, priority=data.priority,
        fulfilment=data.fulfilment, province=data.province, city=data.city,
        district=data.district, line1=data.line1, lat=data.lat, lng=data.lng,
        window_start=data.window_start, window_end=data.window_end,
        subtotal=subtotal, discount_total=discount, total=money(subtotal - discount),
        paid_amount=money(data.paid_amount), note=data.note,
        review_deadline=now + REVIEW_DEADLINE, created_at=now,
    )
    signals = _intake_customer_and_signals(order, data)
    channel_locations = selectors.channel_locations(channel=channel)
    reason = _review_reason(order=order, channel_locations=channel_locations, signals=signals)
    events = [_event(order, kind="created", to_status=OrderStatus.PENDING_REVIEW,
                     actor_label=actor_label)]
    # Optimistically confirmed; a short stock flips it to exception below.
    _set_status(order, OrderStatus.CONFIRMED if reason is None else OrderStatus.EXCEPTION,
                events=events, actor_label=actor_label, exception_reason=reason or "",
                reason="" if reason else "review passed")
    if order.pk is None:  # no id drawn yet: the stock rows need the order row first
        _insert_order(order)
    lines = [OrderLine(order=order, sku=line.sku, sku_code=line.sku.code, name=line.sku.name,
                       quantity=line.quantity, unit_price=money(line.unit_price),
                       discount=money(line.discount),
                       line_total=money(line.unit_price * line.quantity - line.discount))
             for line in data.lines]
    allocations: list[OrderAllocation] = []
    if reason is None:
        allocations = _reserve(order, lines=lines, channel_locations=channel_locations) or []
        changed = ["pickup_store"] if order.pickup_store_id else []
        if not allocations:
            events.pop()
            order.status = OrderStatus.PENDING_REVIEW
            _set_status(order, OrderStatus.EXCEPTION, events=events, actor_label=actor_label,
                        exception_reason=ExceptionReason.INSUFFICIENT_STOCK)
            changed = ["status", "exception_reason"]
        if changed and not order._state.adding:
            order.save(update_fields=[*changed, "updated_at"])
    batches = [(OrderLine, LINE_FIELDS, lines),
               (OrderAllocation, ALLOCATION_FIELDS, allocations),
               (OrderEvent, EVENT_FIELDS, events)]
    if order._state.adding:
        batches.insert(0, (Order, ("id", *ORDER_FIELDS), [order]))
    _insert_rows(batches)
    order._state.adding = False
    webhook_enqueue(order=order, event="order.status_changed")
    order.lines_cache = lines
    return order


CUSTOMER_FIELDS = ("name", "phone", "email", "created_at")
ORDER_FIELDS = tuple(f.name for f in Order._meta.concrete_fields if not f.primary_key)
LINE_FIELDS = ("order", "sku", "sku_code", "name", "quantity", "unit_price", "discount",
               "line_total")
ALLOCATION_FIELDS = ("order", "sku", "location", "quantity")
EVENT_FIELDS = ("order", "kind", "from_status", "to_status", "actor", "actor_label", "reason",
                "data", "created_at")


def _insert_order(order: Order) -> None:
    text, params = sql.insert_objects(Order, ORDER_FIELDS, [order])
    with sql.cursor() as cursor:
        cursor.execute(f"{text} RETURNING {sql.quoted('id')}", params)
        order.pk = cursor.fetchone()[0]
    order._state.adding = False


def _insert_rows(batches) -> None:
    """INSERT each (model, fields, objects) batch (ids are not read back),
    at the end of the enclosing `core.sql.write_batch` if any."""
    for model, names, objs in batches:
        if objs:
            sql.write(*sql.insert_objects(model, names, objs))


def _picks(order: Order) -> list[Pick]:
    return [Pick(a.sku_id, a.location_id, a.quantity) for a in order.allocations.all()]


@transaction.atomic
def order_cancel(*, order: Order, actor=None, actor_label: str = "", reason: str = "") -> Order:
    """Cancel until dispatched; reserved stock goes back."""
    order = order_lock(order_id=order.pk)
    if OrderStatus.CANCELLED not in ORDER_TRANSITIONS[order.status]:
        raise DomainError(f"order {order.number} is {order.status} and can no longer be "
                          "cancelled", code=OrderErrorCode.NOT_CANCELLABLE)
    old = order.status
    if old in RESERVED_STATUSES:
        stock_release(picks=_picks(order), order=order, reason=f"cancel {order.number}",
                      actor=actor)
    events: list[OrderEvent] = []
    _set_status(order, OrderStatus.CANCELLED, events=events, actor=actor,
                actor_label=actor_label, reason=reason or "cancelled")
    _commit(order, events, old_status=old)
    if getattr(actor, "pk", None):
        audit_record(actor=actor, action="order.cancel", target=order, reason=reason)
    return order


@transaction.atomic
def order_retry_review(*, order: Order, actor, approve: bool = False, reason: str = "") -> Order:
    """A person resolves an exception: run the review again (e.g. after a
    restock), or with `approve` accept a flagged order (payment, duplicate,
    fraud, area) and only reserve stock, which is never overridden."""
    order = order_lock(order_id=order.pk)
    if order.status != OrderStatus.EXCEPTION:
        raise InvalidTransition(f"order {order.number} is not in exception",
                                code=OrderErrorCode.INVALID_TRANSITION)
    events: list[OrderEvent] = []
    _review_and_reserve(order, lines=list(order.lines.all()), events=events, actor=actor,
                        skip_checks=approve)
    _commit(order, events, old_status=OrderStatus.EXCEPTION, fields=("pickup_store",))
    audit_record(actor=actor, action="order.approve" if approve else "order.retry_review",
                 target=order, reason=reason, data={"status": order.status})
    return order


@transaction.atomic
def order_advance(*, order: Order, to_status: str, actor=None, actor_label: str = "",
                  reason: str = "") -> Order:
    """Fulfilment steps: picking → packed → dispatched → delivered → completed
    (and returned). Dispatch consumes the reserved stock."""
    order = order_lock(order_id=order.pk)
    old = order.status
    events: list[OrderEvent] = []
    _set_status(order, to_status, events=events, actor=actor, actor_label=actor_label,
                reason=reason)
    if to_status == OrderStatus.DISPATCHED:
        stock_consume(picks=_picks(order), order=order, reason=f"dispatch {order.number}",
                      actor=actor)
    _commit(order, events, old_status=old)
    if getattr(actor, "pk", None):
        audit_record(actor=actor, action=f"order.{to_status}", target=order, reason=reason)
    return order


def orders_flag_overdue_review() -> int:
    """Flag orders still awaiting review (or a person) past their deadline."""
    flagged = 0
    now = timezone.now()
    for order_id in selectors.orders_past_review_deadline(now=now).values_list("pk", flat=True):
        with transaction.atomic():
            order = order_lock(order_id=order_id)
            if order.review_overdue_at is not None or order.status not in (
                    OrderStatus.PENDING_REVIEW, OrderStatus.EXCEPTION):
                continue
            order.review_overdue_at = now
            order.save(update_fields=["review_overdue_at", "updated_at"])
            OrderEvent.objects.create(order=order, kind="review_overdue",
                                      actor_label="order_review_deadline",
                                      reason=order.exception_reason or order.status)
            flagged += 1
    return flagged




def idempotency_keys_prune() -> int:
    from sales.models import IdempotencyKey

    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
