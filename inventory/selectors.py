from django.db.models import F, IntegerField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, Greatest

from inventory.models import Sku, StockLevel, StockMovement


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


def stock_ledger_drift() -> list[dict]:
    """Every SKU-location whose book differs from the sum of its ledger."""
    sums = {
        (row["sku_id"], row["location_id"]): (row["on_hand"], row["reserved"])
        for row in StockMovement.objects.values("sku_id", "location_id").annotate(
            on_hand=Sum("on_hand_delta"), reserved=Sum("reserved_delta"))
    }
    drift = []
    for level in StockLevel.objects.values("sku_id", "location_id", "on_hand", "reserved"):
        key = (level["sku_id"], level["location_id"])
        ledger = sums.pop(key, (0, 0))
        if (level["on_hand"], level["reserved"]) != ledger:
            drift.append({"sku_id": key[0], "location_id": key[1],
                          "book": (level["on_hand"], level["reserved"]), "ledger": ledger})
    for key, ledger in sums.items():
        if ledger != (0, 0):
            drift.append({"sku_id": key[0], "location_id": key[1], "book": None,
                          "ledger": ledger})
    return drift
