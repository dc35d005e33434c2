from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from access.capabilities import capabilities_on_host
from access.http import request_masquerade
from access.permissions import IsInScopeOfThisHost, capability_permission, masquerade_operator
from tenancy.http import request_tenant
from tenancy.selectors import is_platform
from users.http import request_user
from users.models import User
from users.roles import Capability
from users.selectors import user_list_for_host
from users.serializers import MeSerializer, UserCreateSerializer, UserSerializer
from users.services import user_create


class MeView(APIView):
    """The signed-in user, its tenant and what it may do on this host."""

    @extend_schema(responses=MeSerializer, tags=["auth"])
    def get(self, request: Request) -> Response:
        user = request_user(request)
        context = {
            "capabilities": capabilities_on_host(
                user, request_tenant(request), operator=masquerade_operator(request)
            ),
            "masquerade": request_masquerade(request),
        }
        return Response(MeSerializer(user, context=context).data)


class TenantUserListView(generics.ListCreateAPIView):
    """The business's people: staff and customer accounts of this tenant."""

    serializer_class = UserSerializer
    permission_classes = [
        IsInScopeOfThisHost,
        capability_permission(Capability.VIEW_STAFF),
        capability_permission(Capability.MANAGE_STAFF, write_only=True),
    ]
    filterset_fields = ["role", "is_active"]

    def get_queryset(self) -> QuerySet[User]:
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI generator has no tenant
            return User.objects.none()
        return user_list_for_host(
            viewer=request_user(self.request), tenant=request_tenant(self.request)
        )

    @extend_schema(request=UserCreateSerializer, responses={201: UserSerializer}, tags=["users"])
    def post(self, request: Request) -> Response:
        data = UserCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        host_tenant = request_tenant(request)
        tenant = None if is_platform(host_tenant) else host_tenant
        user = user_create(
            actor=request_user(request), tenant=tenant, request=request, **data.validated_data
        )
        return Response(UserSerializer(user).data, status=201)
