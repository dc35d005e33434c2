"""The operators' console API, on the platform host only (config/urls_platform.py)."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from access.permissions import IsInScopeOfThisHost, capability_permission
from access.selectors import tenant_list_for
from console.api.serializers import TenantCreateSerializer, TenantSerializer, TenantUpdateSerializer
from console.services import platform_user_create
from tenancy.http import request_tenant
from tenancy.models import Tenant
from tenancy.services import (
    tenant_deletion_cancel,
    tenant_deletion_schedule,
    tenant_provision,
    tenant_update,
)
from users.http import request_user
from users.models import User
from users.roles import Capability
from users.selectors import user_list_for_host
from users.serializers import PlatformUserCreateSerializer, UserSerializer

TENANT_PERMISSIONS: list[type[BasePermission]] = [
    IsInScopeOfThisHost,
    capability_permission(Capability.VIEW_TENANTS),
    capability_permission(Capability.MANAGE_TENANTS, write_only=True),
]


class TenantListView(generics.ListCreateAPIView):
    serializer_class = TenantSerializer
    permission_classes = TENANT_PERMISSIONS
    filterset_fields = ["status", "subscription_tier"]

    def get_queryset(self) -> QuerySet[Tenant]:
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI generator has no user
            return Tenant.objects.none()
        return tenant_list_for(viewer=request_user(self.request))

    @extend_schema(
        request=TenantCreateSerializer, responses={201: TenantSerializer}, tags=["platform"]
    )
    def post(self, request: Request) -> Response:
        data = TenantCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tenant = tenant_provision(actor=request_user(request), **data.validated_data)
        return Response(TenantSerializer(tenant).data, status=201)


class TenantDetailView(generics.RetrieveAPIView):
    serializer_class = TenantSerializer
    permission_classes = TENANT_PERMISSIONS
    lookup_field = "public_id"
    lookup_url_kwarg = "tenant_id"

    def get_queryset(self) -> QuerySet[Tenant]:
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI generator has no user
            return Tenant.objects.none()
        return tenant_list_for(viewer=request_user(self.request))

    @extend_schema(request=TenantUpdateSerializer, responses=TenantSerializer, tags=["platform"])
    def patch(self, request: Request, tenant_id: str) -> Response:
        tenant = self.get_object()
        data = TenantUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tenant = tenant_update(
            tenant=tenant, actor=request_user(request), request=request, **data.validated_data
        )
        return Response(TenantSerializer(tenant).data)


class TenantDeletionView(generics.GenericAPIView):
    """A tenant's scheduled deletion: POST schedules it after the grace period
    (``TENANT_DELETION_GRACE_DAYS``; the tenant's hosts answer 410 at once), DELETE cancels it
    while it is not yet done."""

    serializer_class = TenantSerializer
    permission_classes = TENANT_PERMISSIONS
    lookup_field = "public_id"
    lookup_url_kwarg = "tenant_id"

    def get_queryset(self) -> QuerySet[Tenant]:
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI generator has no user
            return Tenant.objects.none()
        return tenant_list_for(viewer=request_user(self.request))

    @extend_schema(request=None, responses=TenantSerializer, tags=["platform"])
    def post(self, request: Request, tenant_id: str) -> Response:
        tenant = tenant_deletion_schedule(
            tenant=self.get_object(), actor=request_user(request), request=request
        )
        return Response(TenantSerializer(tenant).data)

    @extend_schema(responses=TenantSerializer, tags=["platform"])
    def delete(self, request: Request, tenant_id: str) -> Response:
        tenant = tenant_deletion_cancel(
            tenant=self.get_object(), actor=request_user(request), request=request
        )
        return Response(TenantSerializer(tenant).data)


class PlatformUserListView(generics.ListCreateAPIView):
    serializer_class = UserSerializer
    permission_classes = [
        IsInScopeOfThisHost,
        capability_permission(Capability.VIEW_USERS),
        capability_permission(Capability.MANAGE_USERS, write_only=True),
    ]
    filterset_fields = ["role", "is_temporary", "is_active"]

    def get_queryset(self) -> QuerySet[User]:
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI generator has no tenant
            return User.objects.none()
        return user_list_for_host(
            viewer=request_user(self.request), tenant=request_tenant(self.request)
        )

    @extend_schema(
        request=PlatformUserCreateSerializer, responses={201: UserSerializer}, tags=["platform"]
    )
    def post(self, request: Request) -> Response:
        data = PlatformUserCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        user = platform_user_create(
            actor=request_user(request),
            tenant_schema=fields.pop("tenant"),
            request=request,
            **fields,
        )
        return Response(UserSerializer(user).data, status=201)
