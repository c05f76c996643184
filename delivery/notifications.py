"""Messages to customers, written to the `CustomerNotification` outbox in the
transaction that causes them (an SMS gateway sends them from there). The
customer reads Chinese, so the text is rendered in zh-Hans."""

from __future__ import annotations

from django.utils import timezone, translation
from django.utils.translation import gettext

from delivery.enums import NotificationKind
from delivery.models import CustomerNotification, Delivery, Shipment

CUSTOMER_LANGUAGE = "zh-hans"


def handover_code_notification(*, delivery: Delivery, save: bool = True) -> CustomerNotification:
    order = delivery.order
    with translation.override(CUSTOMER_LANGUAGE):
        message = gettext("Order %(number)s is on its way with our courier. Your hand-over code "
                          "is %(code)s: tell it to the courier when you receive the goods.") % {
            "number": order.number, "code": delivery.handover_code}
    notification = CustomerNotification(kind=NotificationKind.HANDOVER_CODE,
                                        phone=order.customer.phone, message=message,
                                        order=order, delivery=delivery)
    if save:
        notification.save()
    return notification


def delivery_failed_notification(*, delivery: Delivery) -> CustomerNotification:
    order = delivery.order
    with translation.override(CUSTOMER_LANGUAGE):
        message = gettext("We could not deliver order %(number)s today (%(reason)s). Customer "
                          "service will call you to arrange a new delivery.") % {
            "number": order.number, "reason": delivery.get_failure_reason_display()}
    return CustomerNotification.objects.create(kind=NotificationKind.DELIVERY_FAILED,
                                               phone=order.customer.phone, message=message,
                                               order=order, delivery=delivery)


def shipment_delayed_notification(*, shipment: Shipment) -> CustomerNotification:
    order = shipment.order
    with translation.override(CUSTOMER_LANGUAGE):
        message = gettext("Your parcel for order %(number)s (%(carrier)s, waybill %(waybill)s) "
                          "has had no tracking update since %(since)s. We are chasing the "
                          "carrier and will keep you informed.") % {
            "number": order.number, "carrier": shipment.carrier.name,
            "waybill": shipment.waybill_no,
            "since": timezone.localtime(shipment.last_event_at).strftime("%Y-%m-%d %H:%M")}
    return CustomerNotification.objects.create(kind=NotificationKind.SHIPMENT_DELAYED,
                                               phone=order.customer.phone, message=message,
                                               order=order, shipment=shipment)
