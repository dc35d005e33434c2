from __future__ import annotations

from django.db.models import Q, QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from access.permissions import IsInScopeOfThisHost, capability_permission
from core.api.viewsets import PublicIdLookupMixin
from customers.api.serializers import (
    CustomerSerializer,
    OwnCustomerSerializer,
    PersonalDataSerializer,
)
from customers.models import Customer, CustomerStatus
from customers.permissions import (
    CUSTOMER_PERMISSIONS,
    customer_get_for,
    sees_all_customers,
    visible_customers,
)
from customers.selectors import customer_list
from customers.services import (
    customer_create,
    customer_delete,
    customer_erase,
    customer_personal_data_export,
    customer_update,
)
from tenancy.http import request_tenant
from users.http import request_user
from users.roles import Capability

PERSONAL_DATA_PERMISSIONS: list[type[BasePermission]] = [
    IsInScopeOfThisHost,
    capability_permission(Capability.HANDLE_PERSONAL_DATA),
]


class CustomerFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=CustomerStatus.choices)
    search = filters.CharFilter(method="filter_search", help_text="Name, email or phone contains")
    tag = filters.CharFilter(method="filter_tag")

    class Meta:
        model = Customer
        fields = ["status", "search", "tag"]

    # Filters on the business's internal fields; a customer, who does not see them, would learn
    # them by filtering its own record (``?tag=difficult``), so for it they match nothing.
    INTERNAL_FILTERS = frozenset({"status", "tag"})

    def filter_queryset(self, queryset: QuerySet[Customer]) -> QuerySet[Customer]:
        used = {name for name, value in self.form.cleaned_data.items() if value not in (None, "")}
        if used & self.INTERNAL_FILTERS and not sees_all_customers(
            user=request_user(self.request), tenant=request_tenant(self.request)
        ):
            return queryset.none()
        return super().filter_queryset(queryset)

    def filter_search(
        self, queryset: QuerySet[Customer], name: str, value: str
    ) -> QuerySet[Customer]:
        return queryset.filter(
            Q(name__icontains=value) | Q(email__icontains=value) | Q(phone__icontains=value)
        )

    def filter_tag(self, queryset: QuerySet[Customer], name: str, value: str) -> QuerySet[Customer]:
        return queryset.filter(tags__contains=[value])


@extend_schema_view(
    list=extend_schema(tags=["customers"]),
    retrieve=extend_schema(tags=["customers"]),
    create=extend_schema(
        tags=["customers"],
        examples=[
            OpenApiExample(
                "A new customer",
                value={"name": "Mia Jones", "email": "mia@example.com", "tags": ["vip"]},
                request_only=True,
            )
        ],
    ),
    partial_update=extend_schema(tags=["customers"]),
    destroy=extend_schema(tags=["customers"]),
)
class CustomerViewSet(PublicIdLookupMixin, viewsets.ModelViewSet):
    """The business's customers. Staff read them; a customer sees only itself."""

    queryset = Customer.objects.none()  # for the schema generator; get_queryset scopes
    serializer_class = CustomerSerializer
    permission_classes = CUSTOMER_PERMISSIONS
    filterset_class = CustomerFilter
    http_method_names = ["get", "post", "patch", "delete"]

    def get_serializer_class(self) -> type[CustomerSerializer]:
        if getattr(self, "swagger_fake_view", False) or sees_all_customers(
            user=request_user(self.request), tenant=request_tenant(self.request)
        ):
            return CustomerSerializer
        return OwnCustomerSerializer

    def get_queryset(self) -> QuerySet[Customer]:
        return visible_customers(
            customer_list().order_by("name", "id"),
            user=request_user(self.request),
            tenant=request_tenant(self.request),
        )

    def get_object(self) -> Customer:
        return customer_get_for(
            customer_list(), user=request_user(self.request), tenant=request_tenant(self.request),
            public_id=self.kwargs["id"],
        )  # fmt: skip

    def perform_create(self, serializer: BaseSerializer[Customer]) -> None:
        customer = customer_create(
            tenant=request_tenant(self.request), actor=request_user(self.request),
            **serializer.validated_data,
        )  # fmt: skip
        serializer.instance = customer_list().get(pk=customer.pk)

    def perform_update(self, serializer: BaseSerializer[Customer]) -> None:
        assert serializer.instance is not None  # an update's serializer holds the customer
        customer = customer_update(
            tenant=request_tenant(self.request), customer=serializer.instance,
            actor=request_user(self.request),
            **serializer.validated_data,
        )  # fmt: skip
        serializer.instance = customer_list().get(pk=customer.pk)

    def perform_destroy(self, instance: Customer) -> None:
        customer_delete(customer=instance, actor=request_user(self.request))

    @extend_schema(tags=["customers"], responses=PersonalDataSerializer)
    @action(detail=True, methods=["get"], permission_classes=PERSONAL_DATA_PERMISSIONS)
    def export(self, request: Request, id: str) -> Response:
        """Everything kept about this customer as a person (GDPR right of access): its record,
        account, appointments, charges, reviews and e-mail preferences. Owners and managers."""
        data = customer_personal_data_export(
            customer=self.get_object(), actor=request_user(request), request=request
        )
        return Response(PersonalDataSerializer(data).data)

    @extend_schema(tags=["customers"], request=None, responses=CustomerSerializer)
    @action(detail=True, methods=["post"], permission_classes=PERSONAL_DATA_PERMISSIONS)
    def erase(self, request: Request, id: str) -> Response:
        """Erase this customer's personal data, irreversibly (GDPR right to erasure): the record
        and its account are anonymised, the account can no longer sign in; appointments and
        charges stay with their amounts (financial records). Erasing again changes nothing."""
        customer = customer_erase(
            tenant=request_tenant(request), customer=self.get_object(), actor=request_user(request),
            request=request,
        )  # fmt: skip
        return Response(CustomerSerializer(customer_list().get(pk=customer.pk)).data)
