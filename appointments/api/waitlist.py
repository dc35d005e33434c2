"""The waitlist (issue 13): join a full slot or session, see the offers, leave, and claim an
offered place through its signed link."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from access.scoping import get_visible, visible_to
from appointments import permissions
from appointments.api.serializers import OwnAppointmentSerializer
from appointments.models import WaitlistEntry, WaitlistStatus
from appointments.selectors import waitlist_list
from appointments.services.booking import customer_booked_for
from appointments.services.offers import claim_path
from appointments.services.waitlist import waitlist_claim, waitlist_join, waitlist_leave
from catalog.models import Service
from core.api.fields import AwareDateTimeField, PublicIdField
from core.api.openapi import error_response
from core.api.viewsets import PublicIdLookupMixin
from customers.models import Customer
from tenancy.http import request_tenant
from users.http import request_user
from users.roles import Capability


class WaitlistEntrySerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    service = serializers.UUIDField(source="service.public_id", read_only=True)
    service_name = serializers.CharField(source="service.name", read_only=True)
    customer = serializers.UUIDField(source="customer.public_id", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    appointment = serializers.UUIDField(
        source="appointment.public_id",
        read_only=True,
        allow_null=True,
        help_text="The appointment a claimed offer booked.",
    )
    claim_path = serializers.SerializerMethodField(
        help_text="While OFFERED: the signed claim link (POST it) on this host; null otherwise."
    )

    class Meta:
        model = WaitlistEntry
        fields = [
            "id", "service", "service_name", "customer", "customer_name", "starts_at", "status",
            "offered_at", "offer_expires_at", "claim_path", "appointment", "created_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_claim_path(self, entry: WaitlistEntry) -> str | None:
        if entry.status != WaitlistStatus.OFFERED:
            return None
        return claim_path(tenant=request_tenant(self.context["request"]), entry=entry)


class WaitlistJoinSerializer(serializers.Serializer):
    service = PublicIdField(queryset=Service.objects.all())
    customer = PublicIdField(
        queryset=Customer.objects.all(),
        required=False,
        help_text="Required for staff; a signed-in customer always joins for itself.",
    )
    starts_at = AwareDateTimeField(help_text="The full slot's or session's start.")


@extend_schema_view(
    list=extend_schema(tags=["waitlist"]),
    retrieve=extend_schema(tags=["waitlist"]),
)
class WaitlistViewSet(
    PublicIdLookupMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Customers waiting for full slots and sessions, first come, first served."""

    queryset = WaitlistEntry.objects.none()  # for the schema generator; get_queryset scopes
    serializer_class = WaitlistEntrySerializer
    permission_classes = permissions.APPOINTMENT_PERMISSIONS
    http_method_names = ["get", "post", "delete"]

    def get_queryset(self) -> Any:
        return visible_to(
            waitlist_list().order_by("created_at", "id"),
            user=self.request.user,
            tenant=request_tenant(self.request),
            sees_all=Capability.VIEW_SCHEDULE,
            own_user_field="customer__user_id",
        )

    def get_object(self) -> WaitlistEntry:
        return get_visible(self.get_queryset(), public_id=self.kwargs["id"], noun="entry")

    @extend_schema(
        tags=["waitlist"],
        request=WaitlistJoinSerializer,
        responses={
            201: WaitlistEntrySerializer,
            400: error_response(
                "Field errors, or a time the service cannot be booked at (`in_past`, "
                "`too_soon`, `too_far_ahead`, `outside_hours`)."
            ),
            409: error_response(
                "`slot_available`: it is not full, book it instead; `already_waiting`: the "
                "customer is on this waitlist already."
            ),
        },
        examples=[
            OpenApiExample(
                "Wait for a full class",
                value={"service": "5d7a...", "starts_at": "2026-05-04T18:00:00+02:00"},
                request_only=True,
            )
        ],
    )
    def create(self, request: Request) -> Response:
        data = WaitlistJoinSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = data.validated_data
        tenant = request_tenant(request)
        customer = customer_booked_for(
            tenant=tenant,
            actor=request_user(request),
            named=values.get("customer"),
            refusal="Customers join waitlists for themselves only.",
        )
        entry = waitlist_join(
            tenant=tenant,
            actor=request_user(request),
            service=values["service"],
            customer=customer,
            starts_at=values["starts_at"],
            request=request,
        )
        return Response(self.get_serializer(entry).data, status=201)

    @extend_schema(
        tags=["waitlist"],
        responses={
            204: None,
            400: error_response("The entry is no longer waiting (`invalid_transition`)."),
        },
        description="Leave the waitlist; an offer the entry held passes to the next customer.",
    )
    def destroy(self, request: Request, id: str) -> Response:
        waitlist_leave(
            tenant=request_tenant(request),
            actor=request_user(request),
            entry=self.get_object(),
            request=request,
        )
        return Response(status=204)


class WaitlistClaimView(APIView):
    """The claim link of a waitlist offer: no sign-in, the signed link is the key."""

    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(
        tags=["waitlist"],
        request=None,
        responses={
            201: OwnAppointmentSerializer,
            404: error_response("`invalid_link`: forged, foreign or expired."),
            409: error_response(
                "`offer_not_available`: claimed already (a link works once) or withdrawn; "
                "`offer_expired`: its time is up and the place went to the next customer; "
                "`resource_busy` / `session_full`: a freed one-to-one slot was booked first."
            ),
        },
    )
    def post(self, request: Request, token: str) -> Response:
        appointment = waitlist_claim(tenant=request_tenant(request), token=token, request=request)
        return Response(OwnAppointmentSerializer(appointment).data, status=201)
