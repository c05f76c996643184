from django.db.models import Q

from inventory.models import StockLevel


def stock_levels_lock(*, pairs: set[tuple[int, int]] | None = None,
                      sku_ids: set[int] | None = None,
                      location_ids: list[int] | None = None) -> list[StockLevel]:
    """Lock StockLevel rows in pk order (so concurrent orders never deadlock)
    and return them. Either exact (sku, location) pairs, or skus × locations."""
    qs = StockLevel.objects.select_for_update()
    if pairs is not None:
        condition = Q()
        for sku_id, location_id in sorted(pairs):
            condition |= Q(sku_id=sku_id, location_id=location_id)
        qs = qs.filter(condition)
    else:
        qs = qs.filter(sku_id__in=sku_ids, location_id__in=location_ids)
    return list(qs.order_by("pk"))
