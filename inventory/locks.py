"""select_for_update helpers. Rows are always locked in pk order (so two
transactions never wait on each other in a cycle), and each helper forces
its query to run."""

from django.db import connection

from core import sql
from inventory.models import (
    PurchaseRequest,
    ReplenishmentSuggestion,
    StockLevel,
    Stocktake,
    TransferOrder,
)

LEVEL_FIELDS = ("id", "sku", "location", "on_hand", "reserved", "in_transit", "returned",
                "quarantine", "updated_at")


def stock_levels_lock(*, pairs: set[tuple[int, int]] | None = None,
                      sku_ids: set[int] | None = None,
                      location_ids: list[int] | None = None) -> list[StockLevel]:
    """Lock StockLevel rows in pk order (so concurrent orders never deadlock)
    and return them. Either exact (sku, location) pairs, or skus × locations.

    Hand-written SQL (`core.sql`): this runs for every order and every
    stock change, and the ORM's query building was most of its cost."""
    if pairs is not None:
        if not pairs:
            return []
        where = (f"({sql.quoted('sku_id')}, {sql.quoted('location_id')}) IN "
                 f"(VALUES {sql.row_placeholders(2, len(pairs))})")
        params = [value for pair in sorted(pairs) for value in pair]
    else:
        if not sku_ids or not location_ids:
            return []
        skus, locations = sorted(sku_ids), list(location_ids)
        where = (f"{sql.quoted('sku_id')} IN {sql.in_list(len(skus))} AND "
                 f"{sql.quoted('location_id')} IN {sql.in_list(len(locations))}")
        params = [*skus, *locations]
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with sql.cursor() as cursor:
        cursor.execute(
            f"SELECT {sql.column_list(StockLevel, LEVEL_FIELDS)} FROM {sql.table(StockLevel)} "
            f"WHERE {where} ORDER BY {sql.quoted('id')}{lock}", params)
        return sql.load(StockLevel, LEVEL_FIELDS, cursor.fetchall())


def transfer_lock(*, transfer_id: int) -> TransferOrder:
    return TransferOrder.objects.select_for_update().get(pk=transfer_id)


def stocktake_lock(*, stocktake_id: int) -> Stocktake:
    return Stocktake.objects.select_for_update().get(pk=stocktake_id)


def purchase_request_lock(*, request_id: int) -> PurchaseRequest:
    return PurchaseRequest.objects.select_for_update().get(pk=request_id)


def suggestions_lock(*, suggestion_ids: list[int]) -> list[ReplenishmentSuggestion]:
    return list(ReplenishmentSuggestion.objects.select_for_update(of=("self",))
                .select_related("sku", "location", "source")
                .filter(pk__in=suggestion_ids).order_by("pk"))


def job_lock(key: int) -> None:
    """Serialise runs of a job (two workers, a retry over a slow run) for the
    rest of the transaction: PostgreSQL's transaction-level advisory lock.
    (SQLite, for the quick start only, serialises writers anyway.)"""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
