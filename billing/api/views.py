from __future__ import annotations

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.api.serializers import (
    BillingSettingsSerializer,
    ChargeSerializer,
    ChargeStatusSerializer,
    RevenueQuerySerializer,
    RevenueSummarySerializer,
)
from billing.models import Charge, ChargeKind, PaymentStatus
from billing.permissions import (
    CHARGE_PERMISSIONS,
    SETTINGS_PERMISSIONS,
    SUMMARY_PERMISSIONS,
    charge_get_for,
    visible_charges,
)
from billing.selectors import charge_list, revenue_summary
from billing.services import charge_set_status
from core.api.filters import UTCIsoDateTimeFilter
from core.api.viewsets import PublicIdLookupMixin
from tenancy.http import request_tenant
from tenancy.services import tenant_update
from users.http import request_user


class ChargeFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=PaymentStatus.choices)
    kind = filters.ChoiceFilter(choices=ChargeKind.choices)
    customer = filters.UUIDFilter(field_name="customer__public_id")
    appointment = filters.UUIDFilter(field_name="appointment__public_id")
    start = UTCIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    end = UTCIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Charge
        fields = ["status", "kind", "customer", "appointment", "start", "end"]


@extend_schema_view(
    list=extend_schema(tags=["billing"]),
    retrieve=extend_schema(tags=["billing"]),
)
class ChargeViewSet(
    PublicIdLookupMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Charges for completed appointments and late cancellations, and their payment status."""

    queryset = Charge.objects.none()  # for the schema generator; get_queryset scopes
    serializer_class = ChargeSerializer
    permission_classes = CHARGE_PERMISSIONS
    filterset_class = ChargeFilter
    http_method_names = ["get", "patch"]

    def get_queryset(self) -> QuerySet[Charge]:
        return visible_charges(
            charge_list(), user=request_user(self.request), tenant=request_tenant(self.request)
        )

    def get_object(self) -> Charge:
        return charge_get_for(
            charge_list(), user=request_user(self.request), tenant=request_tenant(self.request),
            public_id=self.kwargs["id"],
        )  # fmt: skip

    @extend_schema(
        tags=["billing"],
        request=ChargeStatusSerializer,
        responses=ChargeSerializer,
        examples=[OpenApiExample("Paid at the desk", value={"status": "PAID"}, request_only=True)],
    )
    def partial_update(self, request: Request, id: str) -> Response:
        charge = self.get_object()
        data = ChargeStatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        charge = charge_set_status(
            charge=charge, status=data.validated_data["status"], actor=request_user(request),
            request=request,
        )  # fmt: skip
        return Response(ChargeSerializer(charge_list().get(pk=charge.pk)).data)


class RevenueSummaryView(APIView):
    """Totals of the business's charges by payment status and kind, optionally in a period."""

    permission_classes = SUMMARY_PERMISSIONS

    @extend_schema(
        tags=["billing"], parameters=[RevenueQuerySerializer], responses=RevenueSummarySerializer
    )
    def get(self, request: Request) -> Response:
        query = RevenueQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        summary = revenue_summary(**query.validated_data)
        return Response(RevenueSummarySerializer(summary).data)


class BillingSettingsView(APIView):
    """The cancellation policy: window (hours before start) and late fee (% of the price)."""

    permission_classes = SETTINGS_PERMISSIONS

    @extend_schema(tags=["billing"], responses=BillingSettingsSerializer)
    def get(self, request: Request) -> Response:
        return Response(BillingSettingsSerializer(request_tenant(request)).data)

    @extend_schema(
        tags=["billing"],
        request=BillingSettingsSerializer,
        responses=BillingSettingsSerializer,
        examples=[
            OpenApiExample(
                "50% inside 24 hours",
                value={"cancellation_window_hours": 24, "late_cancellation_fee_percent": "50.00"},
                request_only=True,
            )
        ],
    )
    def patch(self, request: Request) -> Response:
        data = BillingSettingsSerializer(request_tenant(request), data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        tenant = tenant_update(
            tenant=request_tenant(request),
            actor=request_user(request),
            request=request,
            **data.validated_data,
        )
        return Response(BillingSettingsSerializer(tenant).data)
