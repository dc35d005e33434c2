"""A business's domains on its own host: list, add a custom domain, verify it, remove it.

Needs the ``manage_settings`` capability (the tenant's owner; SUPERUSER and PLATFORM_MANAGER
through their full access). Route53 work happens in ``core.domains``.
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.openapi import error_response
from core.domains import custom_domain_add, custom_domain_remove, custom_domain_verify
from core.models import Domain
from core.selectors import domain_get_for_tenant, domain_list_for_tenant
from users.permissions import IsInScopeOfThisHost, capability_permission

DOMAIN_PERMISSIONS = [IsInScopeOfThisHost, capability_permission("manage_settings")]
# Route53 behind every change and check (core.aws turns its failures into these).
AWS_ERRORS = {
    502: error_response("AWS refused the operation (`aws_error`)."),
    503: error_response("AWS could not be reached; try again later (`aws_unavailable`)."),
}


class TenantDomainSerializer(serializers.ModelSerializer):
    cname_target = serializers.SerializerMethodField()
    verification_status = serializers.ChoiceField(
        choices=Domain.Verification.choices,
        allow_null=True,
        read_only=True,
        help_text="Custom domains only; null for the platform's own subdomains.",
    )
    verification_error = serializers.CharField(
        allow_null=True, read_only=True, help_text="Why the last check failed; null otherwise."
    )

    class Meta:
        model = Domain
        fields = [
            "domain", "is_primary", "is_custom_domain", "route53_zone_id", "cname_target",
            "verification_status", "verification_checked_at", "verification_error", "created_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_cname_target(self, domain: Domain) -> str | None:
        return settings.PLATFORM_CNAME_TARGET if domain.is_custom_domain else None

    def to_representation(self, domain: Domain) -> dict:
        data = super().to_representation(domain)
        if not domain.is_custom_domain:
            # Platform subdomains always serve; a verification state would only mislead.
            data.update(verification_status=None, verification_error=None)
        return data


class CustomDomainAddSerializer(serializers.Serializer):
    domain = serializers.CharField(max_length=253)
    route53_zone_id = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text="Platform operators only; empty means the platform's hosted zone.",
    )


class DomainListView(generics.ListAPIView):
    serializer_class = TenantDomainSerializer
    permission_classes = DOMAIN_PERMISSIONS

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # OpenAPI generation: no tenant
            return Domain.objects.none()
        return domain_list_for_tenant(tenant=self.request.tenant)

    @extend_schema(
        request=CustomDomainAddSerializer,
        responses={201: TenantDomainSerializer, **AWS_ERRORS},
        tags=["domains"],
    )
    def post(self, request: Request) -> Response:
        data = CustomDomainAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        domain = custom_domain_add(
            tenant=request.tenant, actor=request.user, request=request, **data.validated_data
        )
        return Response(TenantDomainSerializer(domain).data, status=201)


class DomainDetailView(APIView):
    permission_classes = DOMAIN_PERMISSIONS

    @extend_schema(responses=TenantDomainSerializer, tags=["domains"])
    def get(self, request: Request, domain: str) -> Response:
        found = domain_get_for_tenant(tenant=request.tenant, name=domain)
        return Response(TenantDomainSerializer(found).data)

    @extend_schema(responses={204: None, **AWS_ERRORS}, tags=["domains"])
    def delete(self, request: Request, domain: str) -> Response:
        found = domain_get_for_tenant(tenant=request.tenant, name=domain)
        custom_domain_remove(domain=found, actor=request.user, request=request)
        return Response(status=204)


class DomainVerifyView(APIView):
    permission_classes = DOMAIN_PERMISSIONS

    @extend_schema(
        request=None, responses={200: TenantDomainSerializer, **AWS_ERRORS}, tags=["domains"]
    )
    def post(self, request: Request, domain: str) -> Response:
        found = domain_get_for_tenant(tenant=request.tenant, name=domain)
        verified = custom_domain_verify(domain=found, actor=request.user, request=request)
        return Response(TenantDomainSerializer(verified).data)
