"""A business's domains on its own host: list, add a custom domain, verify it, remove it.

Needs the ``manage_settings`` capability (the tenant's owner; SUPERUSER and PLATFORM_MANAGER
through their full access). Route53 and DNS work happens in ``tenancy.domains``.

``POST .../verify/`` checks DNS within a short budget and answers 200 with the outcome; when DNS
does not answer in time it queues the check for a Celery worker and answers 202 with the domain
as it was (its ``verification_checked_at`` moves once the worker is done).
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import generics, serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from access.permissions import IsInScopeOfThisHost, capability_permission
from core.api.openapi import error_response
from tenancy.domains import (
    custom_domain_add,
    custom_domain_remove,
    custom_domain_verify_or_queue,
    records_to_publish,
)
from tenancy.http import request_tenant
from tenancy.models import Domain
from tenancy.selectors import domain_get_for_tenant, domain_list_for_tenant
from users.http import request_user
from users.roles import Capability, may_choose_hosted_zone

DOMAIN_PERMISSIONS: list[type[BasePermission]] = [
    IsInScopeOfThisHost,
    capability_permission(Capability.MANAGE_SETTINGS),
]
VERIFY_AGAIN_AFTER_SECONDS = 30
# Route53 behind every change (core.aws turns its failures into these).
AWS_ERRORS = {
    502: error_response("AWS refused the operation (`aws_error`)."),
    503: error_response(
        "AWS (`aws_unavailable`) or the database (`database_unavailable`) could not be reached; "
        "try again after the seconds in Retry-After."
    ),
}


class DnsRecordSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.ChoiceField(choices=["CNAME", "TXT"])
    value = serializers.CharField()
    purpose = serializers.CharField()


class TenantDomainSerializer(serializers.ModelSerializer):
    cname_target = serializers.SerializerMethodField()
    dns_records = serializers.SerializerMethodField()
    instructions = serializers.SerializerMethodField()
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
            "domain", "is_primary", "is_custom_domain", "cname_target", "dns_records",
            "instructions", "verification_status", "verification_checked_at",
            "verification_error", "created_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_cname_target(self, domain: Domain) -> str | None:
        return settings.PLATFORM_CNAME_TARGET if domain.is_custom_domain else None

    @extend_schema_field(DnsRecordSerializer(many=True))
    def get_dns_records(self, domain: Domain) -> list[dict[str, str]]:
        return records_to_publish(domain)

    def get_instructions(self, domain: Domain) -> str:
        if not domain.is_custom_domain:
            return ""
        return (
            "Publish the TXT record in your domain's DNS and make sure the CNAME exists (the "
            "platform creates it when it runs your domain's DNS zone), then verify. Keep both "
            "records: the platform checks them again regularly."
        )

    def to_representation(self, domain: Domain) -> dict:
        data = super().to_representation(domain)
        if not domain.is_custom_domain:
            # Platform subdomains always serve; a verification state would only mislead.
            data.update(verification_status=None, verification_error=None)
        return data


class OperatorDomainSerializer(TenantDomainSerializer):
    """What platform operators who may choose hosted zones see: the zone as well."""

    class Meta(TenantDomainSerializer.Meta):
        fields = [*TenantDomainSerializer.Meta.fields, "route53_zone_id"]
        read_only_fields = fields


def domain_serializer_for(request: Request) -> type[TenantDomainSerializer]:
    return (
        OperatorDomainSerializer
        if may_choose_hosted_zone(request_user(request))
        else TenantDomainSerializer
    )


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
    permission_classes = DOMAIN_PERMISSIONS

    def get_serializer_class(self) -> type[TenantDomainSerializer]:
        if getattr(self, "swagger_fake_view", False):
            return TenantDomainSerializer
        return domain_serializer_for(self.request)

    def get_queryset(self) -> QuerySet[Domain]:
        if getattr(self, "swagger_fake_view", False):  # OpenAPI generation: no tenant
            return Domain.objects.none()
        return domain_list_for_tenant(tenant=request_tenant(self.request))

    @extend_schema(
        request=CustomDomainAddSerializer,
        responses={
            201: TenantDomainSerializer,
            409: error_response(
                "The DNS zone already holds a record of that name, which the platform never "
                "replaces (`dns_record_exists`)."
            ),
            **AWS_ERRORS,
        },
        tags=["domains"],
    )
    def post(self, request: Request) -> Response:
        data = CustomDomainAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        actor = request_user(request)
        domain = custom_domain_add(
            tenant=request_tenant(request),
            may_choose_zone=may_choose_hosted_zone(actor),
            actor=actor,
            request=request,
            **data.validated_data,
        )
        return Response(domain_serializer_for(request)(domain).data, status=201)


class DomainDetailView(APIView):
    permission_classes = DOMAIN_PERMISSIONS

    @extend_schema(responses=TenantDomainSerializer, tags=["domains"])
    def get(self, request: Request, domain: str) -> Response:
        found = domain_get_for_tenant(tenant=request_tenant(request), name=domain)
        return Response(domain_serializer_for(request)(found).data)

    @extend_schema(responses={204: None, **AWS_ERRORS}, tags=["domains"])
    def delete(self, request: Request, domain: str) -> Response:
        found = domain_get_for_tenant(tenant=request_tenant(request), name=domain)
        custom_domain_remove(domain=found, actor=request_user(request), request=request)
        return Response(status=204)


class DomainVerifyView(APIView):
    permission_classes = DOMAIN_PERMISSIONS

    @extend_schema(
        request=None,
        parameters=[
            OpenApiParameter(
                "Retry-After",
                int,
                OpenApiParameter.HEADER,
                response=[202],
                description="Seconds after which the queued check has probably run.",
            )
        ],
        responses={
            200: OpenApiResponse(TenantDomainSerializer, "Checked: the outcome is recorded."),
            202: OpenApiResponse(
                TenantDomainSerializer,
                "DNS did not answer in time: the check is queued and the domain is as it was; "
                "look again after the seconds in Retry-After.",
            ),
            503: error_response(
                "DNS did not answer and the check could not be queued (`dns_unavailable`), or the "
                "database could not be reached (`database_unavailable`); try again after the "
                "seconds in Retry-After."
            ),
        },
        tags=["domains"],
    )
    def post(self, request: Request, domain: str) -> Response:
        found = domain_get_for_tenant(tenant=request_tenant(request), name=domain)
        checked, queued = custom_domain_verify_or_queue(
            domain=found, actor=request_user(request), request=request
        )
        data = domain_serializer_for(request)(checked).data
        if queued:
            return Response(
                data, status=202, headers={"Retry-After": str(VERIFY_AGAIN_AFTER_SECONDS)}
            )
        return Response(data)
