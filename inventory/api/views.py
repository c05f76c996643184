"""Inventory part of the staff API (session auth, department permissions):
parse, check, call a service or selector, serialise."""

import django_filters
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import DomainError
from core.permissions import DepartmentModelPermissions
from inventory.api.serializers import (
    AlertOut,
    ApproveIn,
    CountsIn,
    CountsOut,
    DismissIn,
    ListingDetailOut,
    ListingOut,
    StatementOut,
    StatementQuery,
    SuggestionOut,
)
from inventory.enums import (
    AlertKind,
    AlertStatus,
    InventoryErrorCode,
    SuggestionKind,
    SuggestionStatus,
)
from inventory.listings import products_with_listing_checks
from inventory.models import (
    Category,
    Location,
    Product,
    ReplenishmentSuggestion,
    Sku,
    StockAlert,
    StockMovement,
    Stocktake,
)
from inventory.replenishment import suggestions_approve, suggestions_dismiss
from inventory.selectors import stock_statement
from inventory.stocktake import stocktake_counts_record

CODE = r"[A-Za-z0-9._-]{1,64}"


class StaffViewMixin:
    authentication_classes = [SessionAuthentication]
    permission_classes = [DepartmentModelPermissions]


class ChangePermission(DepartmentModelPermissions):
    perms_map = {**DepartmentModelPermissions.perms_map,
                 "POST": ["%(app_label)s.change_%(model_name)s"]}


class ApprovePermission(DepartmentModelPermissions):
    """A buyer's decision: the approval permission (store sales, management)."""

    perms_map = {**DepartmentModelPermissions.perms_map,
                 "POST": ["%(app_label)s.view_%(model_name)s",
                          "%(app_label)s.approve_replenishment"]}


BOOLEAN_CHOICES = [("true", "true"), ("false", "false")]


class ListingFilter(django_filters.FilterSet):
    complete = django_filters.TypedChoiceFilter(field_name="listing_complete",
                                                choices=BOOLEAN_CHOICES,
                                                coerce=lambda value: value == "true")
    category = django_filters.CharFilter(method="filter_category")
    is_active = django_filters.BooleanFilter()

    def filter_category(self, queryset, name, value):
        category = Category.objects.filter(code=value).first()
        if category is None:
            return queryset.none()
        return queryset.filter(category_node__path__startswith=category.path)


class ListingViewSet(StaffViewMixin, viewsets.ReadOnlyModelViewSet):
    """Listings with their completeness (≥ 6 images, a keyword in the title,
    the category's required attributes, prices, stock). `?complete=false`
    lists the incomplete ones."""

    lookup_field = "code"
    lookup_value_regex = CODE
    filterset_class = ListingFilter
    ordering_fields = ["code", "listing_score"]

    def get_queryset(self):
        qs = Product.objects.select_related("category_node").prefetch_related("keywords")
        return products_with_listing_checks(qs).order_by("code")

    def get_serializer_class(self):
        return ListingDetailOut if self.action == "retrieve" else ListingOut


class AlertFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=AlertStatus.choices)
    kind = django_filters.ChoiceFilter(choices=AlertKind.choices)
    location = django_filters.CharFilter(field_name="location__code")
    sku = django_filters.CharFilter(field_name="sku__code")


class AlertViewSet(StaffViewMixin, viewsets.ReadOnlyModelViewSet):
    queryset = StockAlert.objects.select_related("sku", "location").order_by("-opened_at", "-pk")
    serializer_class = AlertOut
    filterset_class = AlertFilter


class SuggestionFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=SuggestionStatus.choices)
    kind = django_filters.ChoiceFilter(choices=SuggestionKind.choices)
    location = django_filters.CharFilter(field_name="location__code")


class SuggestionViewSet(StaffViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        viewsets.GenericViewSet):
    """Replenishment suggestions; a buyer approves (into a transfer order or
    purchase request) or dismisses them."""

    queryset = (ReplenishmentSuggestion.objects
                .select_related("sku", "location", "source", "transfer", "purchase_request")
                .order_by("-created_at", "-pk"))
    serializer_class = SuggestionOut
    filterset_class = SuggestionFilter

    @extend_schema(request=ApproveIn, responses=SuggestionOut)
    @action(detail=True, methods=["post"], permission_classes=[ApprovePermission])
    def approve(self, request, pk=None):
        suggestion = self.get_object()
        serializer = ApproveIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        quantity = serializer.validated_data.get("quantity")
        suggestions_approve(suggestions=[suggestion], actor=request.user,
                            quantities={suggestion.pk: quantity} if quantity else None)
        return Response(SuggestionOut(self.get_object()).data)

    @extend_schema(request=DismissIn, responses=SuggestionOut)
    @action(detail=True, methods=["post"], permission_classes=[ApprovePermission])
    def dismiss(self, request, pk=None):
        suggestion = self.get_object()
        serializer = DismissIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        suggestions_dismiss(suggestions=[suggestion], actor=request.user,
                            reason=serializer.validated_data["reason"])
        return Response(SuggestionOut(self.get_object()).data)


class StockStatementView(StaffViewMixin, APIView):
    """A SKU-location's ledger read like a bank statement: opening balance,
    each movement with the running balance of every state, closing balance."""

    queryset = StockMovement.objects.none()

    @extend_schema(parameters=[StatementQuery], responses=StatementOut)
    def get(self, request):
        query = StatementQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        sku = get_object_or_404(Sku, code=data["sku"])
        location = get_object_or_404(Location, code=data["location"])
        statement = stock_statement(sku=sku, location=location, start=data.get("start"),
                                    end=data.get("end"))
        return Response(StatementOut({
            "sku": sku.code, "location": location.code, "opening": statement.opening,
            "closing": statement.closing, "total_in": statement.total_in,
            "total_out": statement.total_out, "lines": statement.lines}).data)


class StocktakeCountsView(StaffViewMixin, APIView):
    """Record counts for an open count sheet (e.g. from a handheld scanner)."""

    queryset = Stocktake.objects.none()
    permission_classes = [ChangePermission]

    @extend_schema(request=CountsIn, responses=CountsOut)
    def post(self, request, number: str):
        stocktake = get_object_or_404(Stocktake, number=number[:32])
        serializer = CountsIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        lines = serializer.validated_data["counts"]
        codes = {line["sku"] for line in lines}
        ids = dict(stocktake.lines.filter(sku__code__in=codes)
                   .values_list("sku__code", "sku_id"))
        unknown = [index for index, line in enumerate(lines) if line["sku"] not in ids]
        if unknown:
            raise DomainError(_("Some SKUs are not on this count sheet."),
                              code=InventoryErrorCode.NOT_ON_SHEET, status_code=400,
                              fields={f"counts.{i}.sku": [_("Not on this count sheet.")]
                                      for i in unknown})
        result = stocktake_counts_record(
            stocktake=stocktake, counts={ids[line["sku"]]: line["counted"] for line in lines},
            actor=request.user, source="api")
        return Response(CountsOut({"recorded": result.recorded}).data)
