"""The business's own profile on its host: its logo (an image upload) and its settings."""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from access.permissions import IsInScopeOfThisHost, capability_permission
from core.api.openapi import error_response
from core.exceptions import NotFound
from core.uploads import validated_image
from tenancy.http import request_tenant
from tenancy.selectors import tenant_logo_url
from tenancy.services import tenant_cors_origins_set, tenant_logo_set, tenant_public_booking_set
from users.http import request_user
from users.roles import Capability


class LogoSerializer(serializers.Serializer):
    logo_url = serializers.CharField(help_text="Short-lived signed URL of the image.")


class LogoUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="PNG, JPEG, WebP or GIF.")


class TenantLogoView(APIView):
    """GET: the logo's short-lived URL (any signed-in user of the business). PUT (multipart,
    field ``file``) / DELETE: change it (``manage_settings``)."""

    permission_classes = [
        IsInScopeOfThisHost,
        capability_permission(Capability.MANAGE_SETTINGS, write_only=True),
    ]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        responses={200: LogoSerializer, 404: error_response("This business has no logo.")},
        tags=["tenant"],
    )
    def get(self, request: Request) -> Response:
        url = tenant_logo_url(request_tenant(request))
        if url is None:
            raise NotFound("This business has no logo.")
        return Response({"logo_url": url})

    @extend_schema(request=LogoUploadSerializer, responses=LogoSerializer, tags=["tenant"])
    def put(self, request: Request) -> Response:
        image = validated_image(request.FILES.get("file"))
        tenant = tenant_logo_set(
            tenant=request_tenant(request),
            image=image,
            actor=request_user(request),
            request=request,
        )
        return Response({"logo_url": tenant_logo_url(tenant)})

    @extend_schema(responses={204: None}, tags=["tenant"])
    def delete(self, request: Request) -> Response:
        tenant_logo_set(
            tenant=request_tenant(request), image=None, actor=request_user(request), request=request
        )
        return Response(status=204)


class TenantSettingsSerializer(serializers.Serializer):
    name = serializers.CharField(read_only=True)
    timezone = serializers.CharField(read_only=True)
    cors_allowed_origins = serializers.ListField(
        child=serializers.CharField(),
        help_text=(
            "Browser origins (scheme://host[:port]) whose pages may call this business's API, "
            "e.g. its own booking site; besides the platform's CORS_ALLOWED_ORIGINS. Stored as "
            "browsers send them (lower case, no default port); at most 20."
        ),
    )
    public_booking_enabled = serializers.BooleanField(
        required=False,
        help_text="Public booking pages: the catalogue, availability, slot holds and booking as "
        "a guest without an account under /api/public/ on this business's hosts (404 when off).",
    )


class TenantSettingsView(APIView):
    """The business's settings (``manage_settings``: the owner; SUPERUSER, PLATFORM_MANAGER).
    PATCH ``cors_allowed_origins`` replaces the list; the next request on every worker uses it."""

    permission_classes = [IsInScopeOfThisHost, capability_permission(Capability.MANAGE_SETTINGS)]

    @extend_schema(responses=TenantSettingsSerializer, tags=["tenant"])
    def get(self, request: Request) -> Response:
        return Response(TenantSettingsSerializer(request_tenant(request)).data)

    @extend_schema(
        request=TenantSettingsSerializer,
        responses=TenantSettingsSerializer,
        tags=["tenant"],
        examples=[
            OpenApiExample(
                "The business's booking site",
                value={"cors_allowed_origins": ["https://book.example.com"]},
                request_only=True,
            ),
            OpenApiExample(
                "Take bookings from guests",
                value={"public_booking_enabled": True},
                request_only=True,
            ),
        ],
    )
    def patch(self, request: Request) -> Response:
        data = TenantSettingsSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        actor = request_user(request)
        with transaction.atomic():  # both changes or neither
            tenant = request_tenant(request)
            if "cors_allowed_origins" in data.validated_data:
                tenant = tenant_cors_origins_set(
                    tenant=tenant,
                    origins=data.validated_data["cors_allowed_origins"],
                    actor=actor,
                    request=request,
                )
            if "public_booking_enabled" in data.validated_data:
                tenant = tenant_public_booking_set(
                    tenant=tenant,
                    enabled=data.validated_data["public_booking_enabled"],
                    actor=actor,
                    request=request,
                )
        return Response(TenantSettingsSerializer(tenant).data)
