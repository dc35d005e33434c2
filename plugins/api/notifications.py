"""The delivery log, e-mail templates, and the unsubscribe link (tenant hosts)."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.openapi import error_response
from core.api.viewsets import PublicIdLookupMixin
from core.exceptions import NotFound
from notifications.models import Channel, Delivery, DeliveryStatus
from notifications.services import delivery_redeliver
from notifications.templates import KINDS, VARIABLES, TemplateSource, tenant_template
from plugin_data.models import EmailTemplate
from plugin_data.selectors import customer_unsubscribed
from plugins.api.permissions import INSTALLED_PERMISSIONS
from plugins.data.selectors import unsubscribe_customer
from plugins.data.services import customer_unsubscribe, email_template_reset, email_template_save
from tenancy.http import request_tenant
from users.http import request_user


class DeliverySerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    event = serializers.UUIDField(source="event.public_id", read_only=True)
    event_type = serializers.CharField(source="event.kind", read_only=True)
    status = serializers.ChoiceField(choices=DeliveryStatus.choices, read_only=True)
    channel = serializers.ChoiceField(choices=Channel.choices, read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id", "event", "event_type", "plugin", "channel", "recipient", "status", "attempts",
            "next_attempt_at", "last_attempt_at", "response_status", "latency_ms", "last_error",
            "sent_at", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class DeliveryFilter(filters.FilterSet):
    plugin = filters.CharFilter()
    status = filters.ChoiceFilter(choices=DeliveryStatus.choices)
    channel = filters.ChoiceFilter(choices=Channel.choices)
    event = filters.UUIDFilter(field_name="event__public_id")

    class Meta:
        model = Delivery
        fields = ["plugin", "status", "channel", "event"]


@extend_schema_view(
    list=extend_schema(tags=["deliveries"], description="The delivery log: every message the "
                       "plugins sent or tried to send, newest first."),
    retrieve=extend_schema(tags=["deliveries"]),
)  # fmt: skip
class DeliveryViewSet(
    PublicIdLookupMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    queryset = Delivery.objects.none()  # for the schema generator
    serializer_class = DeliverySerializer
    permission_classes = INSTALLED_PERMISSIONS
    filterset_class = DeliveryFilter

    def get_queryset(self) -> Any:
        return (
            Delivery.objects.filter(tenant=request_tenant(self.request))
            .select_related("event")
            .order_by("-created_at", "-id")
        )

    def get_object(self) -> Delivery:
        delivery = self.get_queryset().filter(public_id=self.kwargs["id"]).first()
        if delivery is None:
            raise NotFound("No such delivery.")
        return delivery

    @extend_schema(
        tags=["deliveries"], request=None, responses={202: DeliverySerializer},
        description="Send it again now (manual redelivery). 409 `delivery_not_redeliverable` "
        "when it was cancelled or could not go out now (customer unsubscribed, plugin disabled).",
    )  # fmt: skip
    @action(detail=True, methods=["post"])
    def redeliver(self, request: Request, id: str) -> Response:
        delivery = delivery_redeliver(
            delivery=self.get_object(), actor=request_user(request), request=request
        )
        return Response(DeliverySerializer(delivery).data, status=202)


class EmailTemplateSerializer(serializers.Serializer):
    kind = serializers.CharField(read_only=True)
    subject = serializers.CharField(max_length=300)
    text_body = serializers.CharField(max_length=20000)
    html_body = serializers.CharField(max_length=50000)
    customized = serializers.BooleanField(read_only=True)
    variables = serializers.JSONField(read_only=True, help_text="The documented variables.")


def _template_data(kind: str) -> dict[str, Any]:
    source = tenant_template(kind)
    return {
        "kind": kind,
        "subject": source.subject,
        "text_body": source.text_body,
        "html_body": source.html_body,
        "customized": EmailTemplate.objects.filter(kind=kind).exists(),
        "variables": VARIABLES[kind],
    }


TEMPLATE_ERROR_EXAMPLE = OpenApiExample(
    "A variable that does not exist",
    value={
        "error": {
            "code": "invalid_template",
            "message": "The template does not render with the documented variables.",
            "fields": {"subject": ["UndefinedError: 'appointment' is undefined"]},
        }
    },
    response_only=True,
    status_codes=["400"],
)


class EmailTemplateListView(APIView):
    permission_classes = INSTALLED_PERMISSIONS

    @extend_schema(tags=["email"], responses=EmailTemplateSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response([_template_data(kind) for kind in KINDS])


class EmailTemplateView(APIView):
    """One e-mail's template: Jinja2 (sandboxed), only the documented variables."""

    permission_classes = INSTALLED_PERMISSIONS

    def _kind(self, kind: str) -> str:
        if kind not in KINDS:
            raise Http404
        return kind

    @extend_schema(tags=["email"], responses=EmailTemplateSerializer)
    def get(self, request: Request, kind: str) -> Response:
        return Response(_template_data(self._kind(kind)))

    @extend_schema(
        tags=["email"], request=EmailTemplateSerializer,
        responses={
            200: EmailTemplateSerializer,
            400: error_response(
                "Field errors (`invalid`), or a template that does not render with the "
                "documented variables (`invalid_template`).",
                TEMPLATE_ERROR_EXAMPLE,
            ),
        },
        examples=[OpenApiExample("A shorter subject", request_only=True, value={
            "subject": "See you {{ appointment.starts_at }}",
            "text_body": "Hi {{ customer.name }}, see you soon.\\n{{ unsubscribe_url }}",
            "html_body": "<p>Hi {{ customer.name }}, see you soon.</p>",
        })],
    )  # fmt: skip
    def put(self, request: Request, kind: str) -> Response:
        kind = self._kind(kind)
        data = EmailTemplateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        email_template_save(
            kind=kind, source=TemplateSource(**data.validated_data), actor=request_user(request),
            request=request,
        )  # fmt: skip
        return Response(_template_data(kind))

    @extend_schema(tags=["email"], responses={204: None}, description="Back to the default.")
    def delete(self, request: Request, kind: str) -> Response:
        email_template_reset(kind=self._kind(kind), actor=request_user(request), request=request)
        return Response(status=204)


class UnsubscribeSerializer(serializers.Serializer):
    unsubscribed = serializers.BooleanField()
    message = serializers.CharField()


class UnsubscribeView(APIView):
    """The link in ``List-Unsubscribe``. GET only looks (mail scanners and link previews fetch
    every link in a message: a GET that acted would unsubscribe people who never clicked); POST
    stops e-mails to that customer, which is what mail clients send for one-click unsubscribe
    (RFC 8058) and what a booking site's "Unsubscribe" button sends. The signed link is the
    credential."""

    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(tags=["email"], responses=UnsubscribeSerializer)
    def get(self, request: Request, token: str) -> Response:
        tenant = request_tenant(request)
        customer = unsubscribe_customer(tenant=tenant, token=token)
        if customer_unsubscribed(customer):
            message = f"{tenant.name} does not e-mail you any more."
        else:
            message = f"POST to this link to stop e-mails from {tenant.name}."
        return Response({"unsubscribed": customer_unsubscribed(customer), "message": message})

    @extend_schema(tags=["email"], request=None, responses=UnsubscribeSerializer)
    def post(self, request: Request, token: str) -> Response:
        tenant = request_tenant(request)
        customer_unsubscribe(tenant=tenant, token=token, request=request)
        return Response({
            "unsubscribed": True,
            "message": f"{tenant.name} will not e-mail you any more.",
        })  # fmt: skip
