"""Demo inventory operations on top of the demo sales history: safety stock
and reorder points, alerts and suggestions, transfers, a stocktake, returns
and quarantine. Deterministic and idempotent: everything is keyed by a
fixed marker, and runs only once (`seed_demo` may run any number of times).
Every stock change goes through the services, so the ledger equals the book."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F

from inventory.enums import MovementKind, PolicyMethod, StocktakeStatus
from inventory.models import (
    Location,
    ReplenishmentSuggestion,
    Sku,
    StockLevel,
    StockPolicy,
    Stocktake,
    TransferOrder,
)
from inventory.replenishment import (
    inventory_alerts_run,
    stock_policies_create_computed,
    stock_policy_set,
    suggestions_approve,
)
from inventory.services import stock_state_change
from inventory.stocktake import (
    stocktake_approve,
    stocktake_counts_record,
    stocktake_start,
    stocktake_submit,
)
from inventory.transfers import transfer_create, transfer_receive, transfer_send

MARK = "【演示】"
WAREHOUSE_LEAD_DAYS = 14  # supplier to the central warehouse
STORE_LEAD_DAYS = 3  # central warehouse to a store


def _actor():
    return get_user_model().objects.filter(username="demo_store_sales").first()


def seed_operations(*, locations: dict[str, Location], skus: dict[str, Sku]) -> str:
    if TransferOrder.objects.filter(reason__startswith=MARK).exists():
        return "inventory operations: already loaded"
    actor = _actor()
    warehouse = next(loc for loc in locations.values() if loc.is_main_warehouse)
    stores = sorted((loc for loc in locations.values() if not loc.is_main_warehouse),
                    key=lambda loc: loc.code)
    with transaction.atomic():
        # Computed policies for every stocked demo SKU-location.
        pairs = sorted(StockLevel.objects.filter(sku__in=skus.values(),
                                                 location__in=locations.values())
                       .values_list("sku_id", "location_id"))
        store_pairs = [p for p in pairs if p[1] != warehouse.pk]
        wh_pairs = [p for p in pairs if p[1] == warehouse.pk]
        stock_policies_create_computed(pairs=wh_pairs, lead_time_days=WAREHOUSE_LEAD_DAYS)
        stock_policies_create_computed(pairs=store_pairs, lead_time_days=STORE_LEAD_DAYS)
        # A few set by hand: fast sellers the stores want never to run out of.
        manual = list(StockLevel.objects.filter(location__in=stores, on_hand__gt=0)
                      .select_related("sku", "location")
                      .order_by("location__code", "on_hand", "sku__code")[:6])
        for level in manual:
            stock_policy_set(sku=level.sku, location=level.location, safety_stock=level.on_hand,
                             reorder_point=level.on_hand + 4, lead_time_days=STORE_LEAD_DAYS,
                             actor=actor)
    # Transfers: one received, one on the road, one still a draft.
    movable = list(StockLevel.objects.filter(location=warehouse,
                                             on_hand__gte=F("reserved") + 30)
                   .select_related("sku").order_by("sku__code")[:9])
    documents = []
    for index, store in enumerate(stores[:3]):
        lines = {level.sku: 5 + index for level in movable[index * 3:index * 3 + 3]}
        if not lines:
            continue
        transfer = transfer_create(source=warehouse, destination=store, lines=lines,
                                   reason=f"{MARK}门店补货调拨", actor=actor)
        if index < 2:
            transfer_send(transfer=transfer, actor=actor)
        if index == 0:
            transfer_receive(transfer=transfer, actor=actor)
        documents.append(transfer.number)
    # Returns and quarantine at the first store.
    store = stores[0]
    held = list(StockLevel.objects.filter(location=store, on_hand__gte=F("reserved") + 3)
                .select_related("sku").order_by("sku__code")[:2])
    if held:
        stock_state_change(sku=held[0].sku, location=store, kind=MovementKind.RETURN_RECEIVED,
                           quantity=2, reason=f"{MARK}顾客退货，待质检", actor=actor)
        stock_state_change(sku=held[0].sku, location=store, kind=MovementKind.RETURN_RESTOCKED,
                           quantity=1, reason=f"{MARK}质检合格，重新上架", actor=actor)
    if len(held) > 1:
        stock_state_change(sku=held[1].sku, location=store, kind=MovementKind.QUARANTINE,
                           quantity=1, reason=f"{MARK}包装破损，隔离待处理", actor=actor)
    # A posted stocktake at the second store (two small losses, one gain) and
    # one still being counted at the third.
    counted = stocktake_start(location=stores[1], note=f"{MARK}月度盘点", actor=actor)
    lines = list(counted.lines.order_by("sku__code"))
    counts = {line.sku_id: line.book_quantity for line in lines}
    for line, change in zip(lines[:3], (-1, -1, 1), strict=False):
        counts[line.sku_id] = max(line.book_quantity + change, 0)
    stocktake_counts_record(stocktake=counted, counts=counts, actor=actor)
    stocktake_submit(stocktake=counted, actor=actor)
    stocktake_approve(stocktake=counted, actor=actor, reason=f"{MARK}月度盘点差异")
    open_count = stocktake_start(location=stores[2], note=f"{MARK}周盘点（进行中）", actor=actor)
    first = list(open_count.lines.order_by("sku__code")[:5])
    stocktake_counts_record(stocktake=open_count,
                            counts={line.sku_id: line.book_quantity for line in first},
                            actor=actor)
    # The alerts job, then a buyer approves the first two suggestions.
    counts_run = inventory_alerts_run()
    drafts = list(ReplenishmentSuggestion.objects.filter(status="draft")
                  .select_related("sku", "location", "source").order_by("location__code",
                                                                        "sku__code")[:2])
    if drafts and actor is not None:
        suggestions_approve(suggestions=drafts, actor=actor)
    posted = Stocktake.objects.filter(status=StocktakeStatus.POSTED).count()
    return (f"inventory operations: {StockPolicy.objects.count()} policies "
            f"({StockPolicy.objects.filter(method=PolicyMethod.MANUAL).count()} by hand), "
            f"{counts_run['alerts_open']} open alerts, {counts_run['suggestions_drafted']} "
            f"suggestions, {len(documents)} transfers, {posted} posted stocktake")
