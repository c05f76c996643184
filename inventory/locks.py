"""select_for_update helpers. Rows are always locked in pk order (so two
transactions never wait on each other in a cycle), and each helper forces
its query to run."""

from django.db import connection
from django.db.models import Q

from inventory.models import (
    PurchaseRequest,
    ReplenishmentSuggestion,
    StockLevel,
    Stocktake,
    TransferOrder,
)


def stock_levels_lock(*, pairs: set[tuple[int, int]] | None = None,
                      sku_ids: set[int] | None = None,
                      location_ids: list[int] | None = None) -> list[StockLevel]:
    """Lock StockLevel rows in pk order (so concurrent orders never deadlock)
    and return them. Either exact (sku, location) pairs, or skus × locations."""
    qs = StockLevel.objects.select_for_update()
    if pairs is not None:
        if not pairs:
            return []
        by_location: dict[int, set[int]] = {}
        for sku_id, location_id in pairs:
            by_location.setdefault(location_id, set()).add(sku_id)
        condition = Q()
        for location_id, skus in sorted(by_location.items()):
            condition |= Q(location_id=location_id, sku_id__in=sorted(skus))
        qs = qs.filter(condition)
    else:
        qs = qs.filter(sku_id__in=sku_ids, location_id__in=location_ids)
    return list(qs.order_by("pk"))


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
