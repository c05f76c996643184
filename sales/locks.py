from sales.models import Order


def order_lock(*, order_id: int) -> Order:
    """Lock one order row for a state change (force the query to run)."""
    return Order.objects.select_for_update().select_related("channel").get(pk=order_id)
