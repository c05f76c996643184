"""Which locations serve an order (a strategy: plain inputs, plain output).

Rule (issue 3): try the candidate locations in preference order and take the
first that can serve every line alone; only when none can, split line by
line across the candidates in the same order. Preference order is decided by
the caller (nearest store first for pickup and same-city, main warehouse
first for express)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Pick:
    sku_id: int
    location_id: int
    quantity: int


def allocation_plan(*, demand: dict[int, int], locations: list[int],
                    available: dict[tuple[int, int], int]) -> list[Pick] | None:
    """`demand`: sku → quantity. Returns picks, or None if stock is short."""
    for location_id in locations:
        if all(available.get((sku, location_id), 0) >= qty for sku, qty in demand.items()):
            return [Pick(sku, location_id, qty) for sku, qty in demand.items()]
    picks: list[Pick] = []
    for sku, qty in demand.items():
        remaining = qty
        for location_id in locations:
            take = min(remaining, max(available.get((sku, location_id), 0), 0))
            if take:
                picks.append(Pick(sku, location_id, take))
                remaining -= take
            if not remaining:
                break
        if remaining:
            return None
    return picks
