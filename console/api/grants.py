"""Permission grants over the platform API: list, grant, revoke. The rules live in access.grants."""

from __future__ import annotations

from uuid import UUID

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from access.capabilities import capabilities_on_host
from access.grants import grant_create, grants_revoke
from access.models import PermissionGrant
from access.permissions import IsInScopeOfThisHost, capability_permission
from access.policy import GRANTABLE_ACTIONS
from access.selectors import grant_list_for
from core.exceptions import NotFound, PermissionDenied
from tenancy.http import request_tenant
from tenancy.models import Tenant
from users.http import request_user
from users.models import User
from users.roles import Capability


class GrantSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    grantor = serializers.EmailField(source="grantor.email", read_only=True)
    grantee = serializers.EmailField(source="grantee.email", read_only=True)
    tenant = serializers.CharField(
        source="tenant.schema_name",
        read_only=True,
        default=None,
        allow_null=True,
        help_text="The one business it applies to; null for every business the grantee reaches.",
    )
    status = serializers.CharField(read_only=True)
    revoked_by = serializers.EmailField(
        source="revoked_by.email", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = PermissionGrant
        fields = [
            "id", "grantor", "grantee", "action", "tenant", "reason", "status", "created_at",
            "expires_at", "revoked_at", "revoked_by", "revoke_reason",
        ]  # fmt: skip
        read_only_fields = fields


class GrantCreateSerializer(serializers.Serializer):
    grantee = serializers.SlugRelatedField(
        slug_field="public_id", queryset=User.objects.filter(is_active=True)
    )
    action = serializers.ChoiceField(choices=sorted(GRANTABLE_ACTIONS))
    reason = serializers.CharField(max_length=2000)
    duration_minutes = serializers.IntegerField(default=30)
    tenant = serializers.SlugRelatedField(
        slug_field="schema_name", queryset=Tenant.objects.all(), required=False, allow_null=True
    )


class GrantRevokeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, default="")


def _manages_grants(request: Request) -> bool:
    return Capability.MANAGE_USERS in capabilities_on_host(
        request_user(request), request_tenant(request)
    )


class GrantListView(generics.ListCreateAPIView):
    """Time-limited extra capabilities (see access.grants for who may grant what)."""

    serializer_class = GrantSerializer
    permission_classes = [IsInScopeOfThisHost, capability_permission(Capability.VIEW_USERS)]
    filterset_fields = ["action"]

    def get_queryset(self) -> QuerySet[PermissionGrant]:
        if getattr(self, "swagger_fake_view", False):
            return PermissionGrant.objects.none()
        return grant_list_for(viewer=request_user(self.request))

    @extend_schema(request=GrantCreateSerializer, responses={201: GrantSerializer}, tags=["grants"])
    def post(self, request: Request) -> Response:
        data = GrantCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        grant = grant_create(grantor=request_user(request), request=request, **data.validated_data)
        return Response(GrantSerializer(grant).data, status=201)


class GrantRevokeView(APIView):
    """End a grant now: its grantor, or SUPERUSER / PLATFORM_MANAGER."""

    permission_classes = [IsInScopeOfThisHost, capability_permission(Capability.VIEW_USERS)]

    @extend_schema(request=GrantRevokeSerializer, responses=GrantSerializer, tags=["grants"])
    def post(self, request: Request, grant_id: UUID) -> Response:
        user = request_user(request)
        grant = grant_list_for(viewer=user).filter(public_id=grant_id).first()
        if grant is None:
            raise NotFound("No such grant.")
        if grant.grantor_id != user.pk and not _manages_grants(request):
            raise PermissionDenied("Only the grantor or a platform manager may revoke a grant.")
        data = GrantRevokeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        grants_revoke(
            grants=PermissionGrant.objects.filter(pk=grant.pk),
            revoked_by=user,
            reason=data.validated_data["reason"],
            request=request,
        )
        grant.refresh_from_db()
        return Response(GrantSerializer(grant).data)
