"""Scheduled inventory jobs (schedules in config/schedules.py). Thin: each
calls one service, which is safe to run twice and on two workers at once."""

from django.utils.translation import gettext_lazy as _

from core.scheduling import scheduled_job
from inventory.channel_sync import channel_stock_sync as channel_stock_sync_service
from inventory.replenishment import inventory_alerts_run, stock_policies_compute


@scheduled_job(name="inventory_alerts",
               description=_("Raise low-stock and stock-out alerts and draft replenishment "
                             "suggestions"))
def inventory_alerts() -> dict[str, int]:
    return inventory_alerts_run()


@scheduled_job(name="channel_stock_sync",
               description=_("Push material changes of available-to-sell to the channels"))
def channel_stock_sync() -> dict[str, int]:
    return channel_stock_sync_service()


@scheduled_job(name="stock_policies_recompute",
               description=_("Recompute computed safety stock and reorder points from sales"))
def stock_policies_recompute() -> dict[str, int]:
    return {"policies": stock_policies_compute()}
