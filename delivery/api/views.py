"""Delivery REST API. Parse, check, call a service, serialise.

- Courier app (`/api/v1/courier/`): a courier signs in as the Django user
  linked to their Courier record (token or session). Every lookup goes
  through the courier's own deliveries, so another courier's delivery is a
  404 and nothing changes.
- Staff (`/api/v1/staff/delivery/`): session auth, the delivery
  department's model permissions."""

from django.contrib.auth import authenticate
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import DomainError
from delivery import selectors
from delivery.api.serializers import (
    CarrierOptionOut,
    DeliveryOut,
    EventOut,
    FailIn,
    HandoverIn,
    ImportIn,
    ImportOut,
    LocationIn,
    LocationOut,
    MoveIn,
    PickupIn,
    RatingIn,
    ShipmentEventIn,
    ShipmentEventOut,
    ShipmentIn,
    ShipmentOut,
    StatusEventIn,
    StopOut,
    SuggestIn,
    TokenIn,
    TokenOut,
)
from delivery.carriers import (
    carrier_suggest,
    shipment_create,
    shipment_event_record,
    shipment_events_import,
)
from delivery.dispatch.moves import delivery_move
from delivery.enums import CourierStatus, EventSource
from delivery.models import Carrier, Courier, Delivery, Shipment
from delivery.services import (
    courier_position_record,
    delivery_fail,
    delivery_handover,
    delivery_pickup,
    delivery_rate,
    delivery_status_post,
)
from sales.models import Order

# --- courier app ---------------------------------------------------------------------------


class IsCourier(permissions.BasePermission):
    """Signed in as a courier who has not left the company."""

    message = _("Only couriers use this API.")

    def has_permission(self, request, view) -> bool:
        courier = selectors.courier_for_user(user=request.user)
        if courier is None or courier.status == CourierStatus.LEFT:
            return False
        view.courier = courier
        return True


class CourierView(APIView):
    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [IsCourier]
    courier: Courier

    def get_delivery(self, pk: int) -> Delivery:
        return get_object_or_404(selectors.courier_deliveries(courier=self.courier), pk=pk)

    def reply(self, delivery: Delivery, code=status.HTTP_200_OK) -> Response:
        delivery.refresh_from_db()
        return Response(DeliveryOut(delivery).data, status=code)


class CourierToken(APIView):
    """Exchange a courier's username and password for an API token."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(request=TokenIn, responses=TokenOut)
    def post(self, request):
        serializer = TokenIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(request._request, username=serializer.validated_data["username"],
                            password=serializer.validated_data["password"])
        courier = selectors.courier_for_user(user=user) if user is not None else None
        if courier is None or courier.status == CourierStatus.LEFT:
            raise DomainError(str(_("Wrong username or password, or not a courier.")),
                              code="invalid_credentials", status_code=400)
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key, "courier": courier.employee_no})


class CourierRoute(CourierView):
    """My open stops in visiting order."""

    @extend_schema(responses=StopOut(many=True))
    def get(self, request):
        return Response(StopOut(selectors.courier_route(courier=self.courier), many=True).data)


class CourierLocation(CourierView):
    @extend_schema(request=LocationIn, responses={201: LocationOut})
    def post(self, request):
        serializer = LocationIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        position = courier_position_record(courier=self.courier, lat=data["lat"], lng=data["lng"],
                                           recorded_at=data["recorded_at"])
        return Response(LocationOut(position).data, status=status.HTTP_201_CREATED)


class CourierPickup(CourierView):
    @extend_schema(request=PickupIn, responses=DeliveryOut)
    def post(self, request, pk: int):
        delivery = self.get_delivery(pk)
        serializer = PickupIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        lines = [(line["sku"], line["quantity"]) for line in serializer.validated_data["lines"]]
        delivery_pickup(delivery=delivery, courier=self.courier, lines=lines, actor=request.user)
        return self.reply(delivery)


class CourierStatusEvent(CourierView):
    @extend_schema(request=StatusEventIn, responses={201: EventOut})
    def post(self, request, pk: int):
        delivery = self.get_delivery(pk)
        serializer = StatusEventIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        event = delivery_status_post(delivery=delivery, courier=self.courier, kind=data["kind"],
                                     note=data["note"], lat=data["lat"], lng=data["lng"],
                                     actor=request.user)
        return Response(EventOut(event).data, status=status.HTTP_201_CREATED)


class CourierDeliver(CourierView):
    @extend_schema(request=HandoverIn, responses=DeliveryOut)
    def post(self, request, pk: int):
        delivery = self.get_delivery(pk)
        serializer = HandoverIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        delivery_handover(delivery=delivery, courier=self.courier,
                          code=serializer.validated_data["code"], actor=request.user)
        return self.reply(delivery)


class CourierFail(CourierView):
    @extend_schema(request=FailIn, responses=DeliveryOut)
    def post(self, request, pk: int):
        delivery = self.get_delivery(pk)
        serializer = FailIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        delivery_fail(delivery=delivery, courier=self.courier,
                      reason=serializer.validated_data["reason"],
                      note=serializer.validated_data["note"], actor=request.user)
        return self.reply(delivery)


class CourierRating(CourierView):
    """The customer rates the delivery on the courier's phone."""

    @extend_schema(request=RatingIn, responses=DeliveryOut)
    def post(self, request, pk: int):
        delivery = self.get_delivery(pk)
        serializer = RatingIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        delivery_rate(delivery=delivery, courier=self.courier,
                      rating=serializer.validated_data["rating"],
                      comment=serializer.validated_data["comment"], actor=request.user)
        return self.reply(delivery)


# --- staff ------------------------------------------------------------------------------------


def has_perms(*codes: str) -> type[permissions.BasePermission]:
    class HasPerms(permissions.BasePermission):
        def has_permission(self, request, view) -> bool:
            user = request.user
            return bool(user and user.is_authenticated and user.is_staff
                        and user.has_perms(codes))

    HasPerms.__name__ = f"HasPerms({', '.join(codes)})"
    return HasPerms


class StaffView(APIView):
    authentication_classes = [SessionAuthentication]


class StaffDeliveryMove(StaffView):
    """A dispatcher moves a stop to another courier and/or position."""

    permission_classes = [has_perms("delivery.change_delivery")]

    @extend_schema(request=MoveIn, responses=DeliveryOut)
    def post(self, request, pk: int):
        delivery = get_object_or_404(Delivery, pk=pk)
        serializer = MoveIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        courier = Courier.objects.filter(pk=data["courier"]).first()
        if courier is None:
            raise DomainError(str(_("No such courier.")), code="invalid", status_code=400,
                              fields={"courier": [str(_("No such courier."))]})
        delivery_move(delivery=delivery, courier=courier, position=data["position"],
                      actor=request.user, reason=data["reason"])
        delivery.refresh_from_db()
        return Response(DeliveryOut(delivery).data)


class StaffShipmentCreate(StaffView):
    """Ship an express order under a waybill (carrier: suggested if omitted)."""

    permission_classes = [has_perms("delivery.add_shipment")]

    @extend_schema(request=ShipmentIn, responses={201: ShipmentOut})
    def post(self, request):
        serializer = ShipmentIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        order = Order.objects.filter(number=data["order"]).first()
        carrier = (Carrier.objects.filter(code=data["carrier"]).first()
                   if data["carrier"] else None)
        errors = {}
        if order is None:
            errors["order"] = [str(_("No such order."))]
        if data["carrier"] and carrier is None:
            errors["carrier"] = [str(_("No such carrier."))]
        if errors:
            raise DomainError(str(_("Invalid input.")), code="invalid", status_code=400,
                              fields=errors)
        shipment = shipment_create(order=order, waybill_no=data["waybill_no"], carrier=carrier,
                                   weight_grams=data["weight_grams"],
                                   cold_chain=data["cold_chain"], actor=request.user)
        return Response(ShipmentOut(shipment).data, status=status.HTTP_201_CREATED)


class StaffShipmentEvent(StaffView):
    """One carrier tracking event (201 new, 200 already known)."""

    permission_classes = [has_perms("delivery.add_shipmentevent")]

    @extend_schema(request=ShipmentEventIn, responses={201: ShipmentEventOut,
                                                       200: ShipmentEventOut})
    def post(self, request):
        serializer = ShipmentEventIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        shipment = Shipment.objects.filter(carrier__code=data["carrier"],
                                           waybill_no=data["waybill_no"]).first()
        if shipment is None:
            raise DomainError(str(_("No such shipment with this carrier.")), code="invalid",
                              status_code=400,
                              fields={"waybill_no": [str(_("No such shipment."))]})
        event, created = shipment_event_record(
            shipment=shipment, kind=data["kind"], occurred_at=data["occurred_at"],
            location=data["location"], description=data["description"],
            source=EventSource.API, actor=request.user)
        event.refresh_from_db()
        return Response(ShipmentEventOut(event).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class StaffShipmentEventImport(StaffView):
    """A carrier's tracking CSV: all rows or none."""

    permission_classes = [has_perms("delivery.add_shipmentevent")]
    parser_classes = [MultiPartParser]

    @extend_schema(request={"multipart/form-data": ImportIn}, responses=ImportOut)
    def post(self, request):
        serializer = ImportIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = shipment_events_import(content=serializer.validated_data["file"].read(),
                                        actor=request.user)
        return Response(ImportOut(result).data)


class StaffCarrierSuggest(StaffView):
    """Carriers for a destination, best first (price and record)."""

    permission_classes = [has_perms("delivery.view_carrier")]

    @extend_schema(parameters=[SuggestIn], responses=CarrierOptionOut(many=True))
    def get(self, request):
        serializer = SuggestIn(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        options = carrier_suggest(province=data["province"], city=data["city"],
                                  weight_grams=data["weight_grams"],
                                  cold_chain=data["cold_chain"])
        return Response(CarrierOptionOut(options, many=True).data)
