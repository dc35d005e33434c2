"""Webhook endpoints of this business (the webhooks plugin)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from access.capabilities import capability_on_host
from access.permissions import masquerade_operator
from core.api.viewsets import PublicIdLookupMixin
from core.exceptions import NotFound
from plugin_data.models import WebhookEndpoint
from plugins.api.permissions import INSTALLED_PERMISSIONS
from plugins.api.serializers import WebhookEndpointSerializer, WebhookEndpointWithSecretSerializer
from plugins.data.services import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
)
from tenancy.http import request_tenant
from users.http import request_user
from users.roles import Capability

ENDPOINT_EXAMPLE = OpenApiExample(
    "Bookings and cancellations to the CRM",
    value={
        "url": "https://crm.example.com/hooks/smooth-schedule",
        "description": "CRM",
        "event_types": ["appointment.created", "appointment.cancelled"],
    },
    request_only=True,
)
SECRET_EXAMPLE = OpenApiExample(
    "Created: the secret is shown this once",
    value={
        "id": "7c0f5a8e-0e5b-4a57-9a57-3f3c7f1f8f11",
        "url": "https://crm.example.com/hooks/smooth-schedule",
        "description": "CRM",
        "event_types": ["appointment.created", "appointment.cancelled"],
        "enabled": True,
        "consecutive_failures": 0,
        "disabled_at": None,
        "disabled_reason": "",
        "created_at": "2026-05-04T09:00:00Z",
        "updated_at": "2026-05-04T09:00:00Z",
        "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    },
    response_only=True,
    status_codes=["201"],
)


def sees_full_urls(request: Request) -> bool:
    """Endpoint URLs can carry credentials in their path or query: only people of this business
    who manage its plugins see them whole; everyone else (staff, platform operators) sees
    scheme://host/... ."""
    user, tenant = request.user, request_tenant(request)
    if getattr(user, "tenant_id", None) != tenant.pk:
        return False
    operator = masquerade_operator(request)
    return capability_on_host(user, tenant, Capability.MANAGE_PLUGINS, operator=operator).allowed


@extend_schema_view(
    list=extend_schema(
        tags=["webhooks"],
        description="The business's endpoints. Their URLs are shown whole to its own people "
        "who manage plugins; to anyone else as scheme://host/... (a URL can hold a token).",
    ),
    retrieve=extend_schema(tags=["webhooks"]),
    create=extend_schema(
        tags=["webhooks"],
        request=WebhookEndpointSerializer,
        responses={201: WebhookEndpointWithSecretSerializer},
        examples=[ENDPOINT_EXAMPLE, SECRET_EXAMPLE],
        description="Register an endpoint. Private, loopback and link-local targets are "
        "refused (400 unsafe_webhook_target).",
    ),
    partial_update=extend_schema(
        tags=["webhooks"], description='Change it; {"enabled": true} re-enables a disabled one.'
    ),
    destroy=extend_schema(tags=["webhooks"]),
)
class WebhookEndpointViewSet(PublicIdLookupMixin, viewsets.ModelViewSet):
    """Where the webhooks plugin POSTs signed events (Standard Webhooks)."""

    queryset = WebhookEndpoint.objects.none()  # for the schema generator
    serializer_class = WebhookEndpointSerializer
    permission_classes = INSTALLED_PERMISSIONS
    http_method_names = ["get", "post", "patch", "delete"]

    def get_queryset(self) -> Any:
        return WebhookEndpoint.objects.order_by("created_at", "id")

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "full_urls": sees_full_urls(self.request)}

    def get_object(self) -> WebhookEndpoint:
        endpoint = WebhookEndpoint.objects.filter(public_id=self.kwargs["id"]).first()
        if endpoint is None:
            raise NotFound("No such webhook endpoint.")
        return endpoint

    def create(self, request: Request) -> Response:
        data = WebhookEndpointSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = webhook_endpoint_create(
            tenant=request_tenant(request),
            actor=request_user(request),
            request=request,
            **data.validated_data,
        )
        return Response(
            WebhookEndpointWithSecretSerializer(
                endpoint, context=self.get_serializer_context()
            ).data,
            status=201,
        )

    def partial_update(self, request: Request, id: str) -> Response:
        endpoint = self.get_object()
        data = WebhookEndpointSerializer(endpoint, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        endpoint = webhook_endpoint_update(
            endpoint=endpoint,
            actor=request_user(request),
            request=request,
            **data.validated_data,
        )
        return Response(
            WebhookEndpointSerializer(endpoint, context=self.get_serializer_context()).data
        )

    def perform_destroy(self, instance: WebhookEndpoint) -> None:
        webhook_endpoint_delete(
            endpoint=instance, actor=request_user(self.request), request=self.request
        )

    @extend_schema(
        tags=["webhooks"], request=None, responses={200: WebhookEndpointWithSecretSerializer},
        description="A new secret, shown this once; the old one stops working at once.",
    )  # fmt: skip
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, id: str) -> Response:
        endpoint = webhook_endpoint_rotate_secret(
            endpoint=self.get_object(), actor=request_user(request), request=request
        )
        return Response(
            WebhookEndpointWithSecretSerializer(
                endpoint, context=self.get_serializer_context()
            ).data
        )
