"""Staff REST API: session auth, department permissions (a department reads
what it may view and changes what it owns). Parse, check, call a service,
serialise. Partner keys never authenticate here."""

import django_filters
from django.db.models import F, IntegerField, Prefetch, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.response import Response

from core.permissions import DepartmentModelPermissions
from inventory.models import Sku, StockLevel
from sales import selectors
from sales.api.serializers import (
    ChannelOut,
    ReasonIn,
    SkuStockOut,
    StaffOrderDetailOut,
    StaffOrderOut,
    StockLevelOut,
)
from sales.enums import ExceptionReason, Fulfilment, OrderStatus, Priority
from sales.models import Channel, OrderEvent
from sales.services import order_cancel, order_retry_review

ORDER_NUMBER = r"[A-Za-z0-9_-]{1,32}"
CODE = r"[A-Za-z0-9._-]{1,64}"


class OrderChangePermission(DepartmentModelPermissions):
    """Order actions change the order: `change_order`, not `add_order`."""

    perms_map = {**DepartmentModelPermissions.perms_map,
                 "POST": ["%(app_label)s.change_%(model_name)s"]}


class OrderApprovePermission(DepartmentModelPermissions):
    """Approving an exception also needs the resolve permission."""

    perms_map = {**DepartmentModelPermissions.perms_map,
                 "POST": ["%(app_label)s.change_%(model_name)s",
                          "%(app_label)s.resolve_exception"]}


class StaffViewMixin:
    authentication_classes = [SessionAuthentication]
    permission_classes = [DepartmentModelPermissions]


class StaffOrderFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=OrderStatus.choices)
    channel = django_filters.CharFilter(field_name="channel__code")
    fulfilment = django_filters.ChoiceFilter(choices=Fulfilment.choices)
    priority = django_filters.ChoiceFilter(choices=Priority.choices)
    exception_reason = django_filters.ChoiceFilter(choices=ExceptionReason.choices)
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    overdue = django_filters.BooleanFilter(method="filter_overdue",
                                           label=_("Review deadline passed"))

    def filter_overdue(self, queryset, name, value):
        overdue = Q(status__in=[OrderStatus.PENDING_REVIEW, OrderStatus.EXCEPTION],
                    review_deadline__lt=timezone.now())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


class StaffOrderViewSet(StaffViewMixin, viewsets.ReadOnlyModelViewSet):
    """Orders across channels; cancel, review again or approve through the services."""

    lookup_field = "number"
    lookup_value_regex = ORDER_NUMBER
    filterset_class = StaffOrderFilter
    ordering_fields = ["created_at", "review_deadline", "total"]

    def get_queryset(self):
        qs = selectors.orders_with_lines().select_related("pickup_store")
        if self.action != "list":
            qs = qs.prefetch_related(
                "allocations__sku", "allocations__location",
                Prefetch("events", queryset=OrderEvent.objects.order_by("created_at", "pk")))
        return qs

    def get_serializer_class(self):
        return StaffOrderOut if self.action == "list" else StaffOrderDetailOut

    def _reply(self):
        return Response(StaffOrderDetailOut(self.get_object()).data)

    def _reason(self, request) -> str:
        serializer = ReasonIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data["reason"]

    @extend_schema(request=ReasonIn, responses=StaffOrderDetailOut)
    @action(detail=True, methods=["post"], permission_classes=[OrderChangePermission])
    def cancel(self, request, number=None):
        """Cancel until dispatched; reserved stock goes back."""
        order = self.get_object()
        order_cancel(order=order, actor=request.user, reason=self._reason(request))
        return self._reply()

    @extend_schema(request=ReasonIn, responses=StaffOrderDetailOut)
    @action(detail=True, methods=["post"], url_path="retry-review",
            permission_classes=[OrderChangePermission])
    def retry_review(self, request, number=None):
        """Run the automatic review again for an order in exception."""
        order = self.get_object()
        order_retry_review(order=order, actor=request.user, approve=False,
                           reason=self._reason(request))
        return self._reply()

    @extend_schema(request=ReasonIn, responses=StaffOrderDetailOut)
    @action(detail=True, methods=["post"], permission_classes=[OrderApprovePermission])
    def approve(self, request, number=None):
        """Accept a flagged order; stock is still reserved (never overridden)."""
        order = self.get_object()
        order_retry_review(order=order, actor=request.user, approve=True,
                           reason=self._reason(request))
        return self._reply()


class ChannelFilter(django_filters.FilterSet):
    class Meta:
        model = Channel
        fields = ["kind", "is_active"]


class StaffChannelViewSet(StaffViewMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Channel.objects.prefetch_related("locations").order_by("code")
    serializer_class = ChannelOut
    lookup_field = "code"
    lookup_value_regex = CODE
    filterset_class = ChannelFilter


class SkuFilter(django_filters.FilterSet):
    code = django_filters.CharFilter()
    product = django_filters.CharFilter(field_name="product__code")
    category = django_filters.CharFilter(field_name="product__category")

    class Meta:
        model = Sku
        fields = ["code", "product", "category", "is_active"]


class StaffSkuViewSet(StaffViewMixin, viewsets.ReadOnlyModelViewSet):
    """SKUs with stock per location and the totals across locations."""

    serializer_class = SkuStockOut
    lookup_field = "code"
    lookup_value_regex = CODE
    filterset_class = SkuFilter
    ordering_fields = ["code", "available", "on_hand"]

    def get_queryset(self):
        zero = Value(0)
        levels = StockLevel.objects.select_related("location").order_by("location__code")
        return (Sku.objects.select_related("product")
                .prefetch_related(Prefetch("levels", queryset=levels))
                .annotate(on_hand=Coalesce(Sum("levels__on_hand"), zero),
                          reserved=Coalesce(Sum("levels__reserved"), zero),
                          available=Coalesce(Sum(F("levels__on_hand") - F("levels__reserved")),
                                             zero, output_field=IntegerField()))
                .order_by("code"))


class StockLevelFilter(django_filters.FilterSet):
    sku = django_filters.CharFilter(field_name="sku__code")
    location = django_filters.CharFilter(field_name="location__code")


class StaffStockLevelViewSet(StaffViewMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    queryset = (StockLevel.objects.select_related("sku", "location")
                .order_by("sku__code", "location__code"))
    serializer_class = StockLevelOut
    filterset_class = StockLevelFilter
