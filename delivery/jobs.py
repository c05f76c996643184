"""The delivery department's scheduled jobs (schedules: config/schedules.py)."""

from django.utils.translation import gettext_lazy as _

from core.scheduling import scheduled_job


@scheduled_job(name="dispatch",
               description=_("Dispatch open same-city orders: one task per zone"))
def dispatch() -> dict[str, int]:
    from delivery.dispatch.cycle import dispatch_cycle

    return dispatch_cycle()


@scheduled_job(name="stalled_shipments",
               description=_("Flag express shipments without tracking updates; tell the "
                             "customer and open a ticket"))
def stalled_shipments() -> dict[str, int]:
    from delivery.carriers import shipments_flag_stalled

    return shipments_flag_stalled()


@scheduled_job(name="fleet_alerts",
               description=_("Alerts for overdue training, maintenance, insurance, equipment "
                             "checks and carrier licences"))
def fleet_alerts() -> dict[str, int]:
    from delivery.services import fleet_alerts_refresh

    return fleet_alerts_refresh()
