from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from access.capabilities import capabilities_on_host
from access.permissions import IsInScopeOfThisHost, capability_permission, masquerade_operator
from tenancy.selectors import is_platform
from users.models import User
from users.roles import Capability
from users.selectors import user_list_for_host
from users.serializers import MeSerializer, UserCreateSerializer, UserSerializer
from users.services import user_create


class MeView(APIView):
    """The signed-in user, its tenant and what it may do on this host."""

    @extend_schema(responses=MeSerializer, tags=["auth"])
    def get(self, request: Request) -> Response:
        context = {
            "capabilities": capabilities_on_host(
                request.user, request.tenant, operator=masquerade_operator(request)
            ),
            "masquerade": getattr(request, "masquerade", None),
        }
        return Response(MeSerializer(request.user, context=context).data)


class TenantUserListView(generics.ListCreateAPIView):
    """The business's people: staff and customer accounts of this tenant."""

    serializer_class = UserSerializer
    permission_classes = [
        IsInScopeOfThisHost,
        capability_permission(Capability.VIEW_STAFF),
        capability_permission(Capability.MANAGE_STAFF, write_only=True),
    ]
    filterset_fields = ["role", "is_active"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI generator has no tenant
            return User.objects.none()
        return user_list_for_host(viewer=self.request.user, tenant=self.request.tenant)

    @extend_schema(request=UserCreateSerializer, responses={201: UserSerializer}, tags=["users"])
    def post(self, request: Request) -> Response:
        data = UserCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tenant = None if is_platform(request.tenant) else request.tenant
        user = user_create(
            actor=request.user, tenant=tenant, request=request, **data.validated_data
        )
        return Response(UserSerializer(user).data, status=201)
