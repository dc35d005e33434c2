"""The public booking page's API: no account needed, on the business's own host, only while the
business has public booking switched on (else 404), with rate limits of its own per client
address.

Catalogue and availability; a slot hold while the visitor fills in the form; booking as a guest;
then view, cancel and reschedule through signed manage links, whose tokens travel in the body
(never in the URL, so no access log or audit row holds one).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import generics, serializers
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from appointments.api.appointments import TIME_REFUSED, TIME_TAKEN
from appointments.api.availability import AvailabilityView
from appointments.api.serializers import (
    AvailabilityQuerySerializer,
    AvailabilitySerializer,
    HeldResourceSerializer,
    SlotResourceSerializer,
)
from appointments.manage_links import manage_link_appointment, manage_tokens, manage_urls
from appointments.models import Appointment
from appointments.services.guest import guest_book, guest_cancel, guest_reschedule
from appointments.services.slot_holds import slot_hold_create
from catalog.models import Service
from core.api.fields import AwareDateTimeField, PublicIdField
from core.api.openapi import error_response
from core.audit import client_ip
from core.exceptions import NotFound
from tenancy.http import request_tenant

THROTTLE_RATE_SETTINGS = {
    "public_read": "PUBLIC_READ_THROTTLE_RATE",
    "public_write": "PUBLIC_WRITE_THROTTLE_RATE",
}
SWITCHED_OFF = error_response(
    "This business does not take bookings online (`not_found`): public booking is switched off."
)
LINK_REFUSED = error_response(
    "`invalid_link`: the token is forged, from another business, for another purpose, past the "
    "appointment's end, or no longer current (the appointment was cancelled or moved through a "
    "link since); or public booking is switched off (`not_found`)."
)


class PublicBookingThrottle(ScopedRateThrottle):
    """Requests per client address (``core.audit.client_ip``, which follows
    ``TRUSTED_PROXY_COUNT``) in the view's scope, counted in the shared cache. Rates are read
    from the settings at each request."""

    def get_rate(self) -> str | None:
        if self.scope is None:  # no scope, no throttling (as ScopedRateThrottle has it)
            return None
        return getattr(settings, THROTTLE_RATE_SETTINGS[self.scope])

    def get_ident(self, request: Request) -> str:
        return client_ip(request) or "unknown"


class PublicView(APIView):
    permission_classes: list[type[BasePermission]] = [AllowAny]
    throttle_classes = [PublicBookingThrottle]
    throttle_scope = "public_write"

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not request_tenant(request).public_booking_enabled:
            raise NotFound("This business does not take bookings online.")


class PublicServiceSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    intake_schema = serializers.JSONField(
        read_only=True, help_text="The intake questions, a JSON Schema object ({}: none)."
    )

    class Meta:
        model = Service
        fields = [
            "id", "name", "description", "duration_minutes", "price", "min_notice_minutes",
            "max_advance_days", "intake_schema",
        ]  # fmt: skip
        read_only_fields = fields


class PublicServiceListView(PublicView, generics.ListAPIView):
    """The services the business offers (active ones), with their intake questions."""

    serializer_class = PublicServiceSerializer
    throttle_scope = "public_read"
    filter_backends: list[Any] = []

    def get_queryset(self) -> Any:
        return Service.objects.filter(is_active=True).order_by("name", "id")

    @extend_schema(
        tags=["public"], responses={200: PublicServiceSerializer(many=True), 404: SWITCHED_OFF}
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class PublicAvailabilityView(PublicView, AvailabilityView):
    """Free start times of a service, as the signed-in availability answers them."""

    throttle_scope = "public_read"

    @extend_schema(
        tags=["public"],
        parameters=[AvailabilityQuerySerializer],
        responses={
            200: AvailabilitySerializer,
            400: error_response(
                "Field errors (`invalid`): an inactive or unknown service, a bad range, timezone "
                "or step."
            ),
            404: SWITCHED_OFF,
        },
    )
    def get(self, request: Request) -> Response:
        return super().get(request)


class HoldCreateSerializer(serializers.Serializer):
    service = PublicIdField(queryset=Service.objects.filter(is_active=True))
    starts_at = AwareDateTimeField()


class HoldSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="Send it as `hold` with the booking.")
    service = serializers.UUIDField()
    starts_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(help_text="The slot is yours until then.")
    resources = SlotResourceSerializer(many=True)


class PublicHoldView(PublicView):
    """Hold a slot for a few minutes (``SLOT_HOLD_MINUTES``, default 5) while the visitor fills
    in the form: nobody else can book, block or hold it meanwhile. The booking that names the
    hold takes it over; otherwise it lapses by itself."""

    @extend_schema(
        tags=["public"],
        request=HoldCreateSerializer,
        responses={201: HoldSerializer, 400: TIME_REFUSED, 404: SWITCHED_OFF, 409: TIME_TAKEN},
    )
    def post(self, request: Request) -> Response:
        data = HoldCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        hold, held = slot_hold_create(
            tenant=request_tenant(request), service=data.validated_data["service"],
            starts_at=data.validated_data["starts_at"], request=request,
        )  # fmt: skip
        body = {
            "id": hold.public_id,
            "service": data.validated_data["service"].public_id,
            "starts_at": hold.starts_at,
            "expires_at": hold.expires_at,
            "resources": [
                {"id": a.resource.public_id, "name": a.resource.name, "type": a.resource.type}
                for a in held
            ],
        }
        return Response(HoldSerializer(body).data, status=201)


class GuestBookingSerializer(serializers.Serializer):
    service = PublicIdField(queryset=Service.objects.filter(is_active=True))
    starts_at = AwareDateTimeField()
    name = serializers.CharField(max_length=150)
    email = serializers.EmailField(max_length=254)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    intake = serializers.JSONField(
        required=False,
        help_text="Answers to the service's intake questions (its `intake_schema`), an object.",
    )
    hold = serializers.UUIDField(
        required=False, help_text="A slot hold of this service and start to take over."
    )


class PublicAppointmentSerializer(serializers.ModelSerializer):
    """What a guest sees of its appointment: nothing of the customer record it was matched to."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    service = serializers.UUIDField(source="service.public_id", read_only=True)
    service_name = serializers.CharField(source="service.name", read_only=True)
    intake_answers = serializers.JSONField(read_only=True)
    resources = HeldResourceSerializer(source="allocations", many=True, read_only=True)

    class Meta:
        model = Appointment
        fields = [
            "id", "service", "service_name", "starts_at", "ends_at", "status", "price",
            "intake_answers", "resources", "cancelled_at",
        ]  # fmt: skip
        read_only_fields = fields


class ManageLinkSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Post it to the endpoint of its purpose.")
    url = serializers.CharField(help_text="The booking page's link (`PUBLIC_MANAGE_LINK`).")


class ManageLinksSerializer(serializers.Serializer):
    view = ManageLinkSerializer()
    cancel = ManageLinkSerializer()
    reschedule = ManageLinkSerializer()
    expires_at = serializers.DateTimeField(help_text="The appointment's end: links die then.")


# The answers' documented shapes; the views compose them from what the write returned.
class BookedSerializer(PublicAppointmentSerializer):
    manage = ManageLinksSerializer(read_only=True, help_text="The signed manage links.")

    class Meta(PublicAppointmentSerializer.Meta):
        fields = [*PublicAppointmentSerializer.Meta.fields, "manage"]
        read_only_fields = fields


LATE_FEE = serializers.DecimalField(
    max_digits=10, decimal_places=2, read_only=True,
    help_text="Charged for cancelling inside the business's cancellation window.",
)  # fmt: skip


class CancelledSerializer(PublicAppointmentSerializer):
    late_fee = LATE_FEE

    class Meta(PublicAppointmentSerializer.Meta):
        fields = [*PublicAppointmentSerializer.Meta.fields, "late_fee"]
        read_only_fields = fields


def _with_links(request: Request, appointment: Appointment) -> dict[str, Any]:
    tokens = manage_tokens(tenant=request_tenant(request), appointment=appointment)
    urls = manage_urls(tenant=request_tenant(request), tokens=tokens)
    links = {
        **{p: {"token": tokens[p], "url": urls[p]} for p in tokens},
        "expires_at": appointment.ends_at,
    }
    return {
        **PublicAppointmentSerializer(appointment).data,
        "manage": ManageLinksSerializer(links).data,
    }


BOOKING_EXAMPLE = OpenApiExample(
    "A guest books a held slot",
    value={
        "service": "5d7a...",
        "starts_at": "2026-05-04T10:00:00+02:00",
        "name": "Mia Jones",
        "email": "mia@example.com",
        "phone": "+44 20 7946 0000",
        "intake": {"allergies": "none"},
        "hold": "0f3c...",
    },
    request_only=True,
)


class GuestBookingView(PublicView):
    """Book as a guest. The answer (and the confirmation e-mail) carry the signed manage links.
    It is the same whether the e-mail belonged to a customer already or not."""

    @extend_schema(
        tags=["public"],
        request=GuestBookingSerializer,
        examples=[BOOKING_EXAMPLE],
        responses={
            201: BookedSerializer,
            400: error_response(
                "Field errors (`invalid`, also an unknown, used or mismatched `hold`), intake "
                "answers that do not fit the service's questions (`invalid_intake`, naming "
                "`intake.<field>`), or a time the service cannot be booked at (`in_past`, "
                "`too_soon`, `too_far_ahead`, `outside_hours`, `no_eligible_resource`)."
            ),
            403: error_response(
                "Online booking is not available with these details (`permission_denied`)."
            ),
            404: SWITCHED_OFF,
            409: TIME_TAKEN,
        },
    )
    def post(self, request: Request) -> Response:
        data = GuestBookingSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        appointment = guest_book(
            tenant=request_tenant(request), service=values["service"],
            starts_at=values["starts_at"], name=values["name"], email=values["email"],
            phone=values["phone"],
            intake_answers=values.get("intake"), hold_id=values.get("hold"), request=request,
        )  # fmt: skip
        return Response(_with_links(request, appointment), status=201)


class ManageTokenSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=1000, help_text="The manage link's token.")


class ManageRescheduleSerializer(ManageTokenSerializer):
    starts_at = AwareDateTimeField()


class ManageView(PublicView):
    """The appointment a view link is for."""

    @extend_schema(
        tags=["public"],
        request=ManageTokenSerializer,
        responses={200: PublicAppointmentSerializer, 404: LINK_REFUSED},
    )
    def post(self, request: Request) -> Response:
        data = ManageTokenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        appointment = manage_link_appointment(
            tenant=request_tenant(request), token=data.validated_data["token"], now=timezone.now()
        )
        return Response(PublicAppointmentSerializer(appointment).data)


class ManageCancelView(PublicView):
    """Cancel through a cancel link. Inside the business's cancellation window the late fee is
    charged, as for a signed-in customer. Every link of the appointment dies with it."""

    @extend_schema(
        tags=["public"],
        request=ManageTokenSerializer,
        responses={
            200: CancelledSerializer,
            400: error_response("`invalid_transition`: the appointment is no longer open."),
            404: LINK_REFUSED,
        },
    )
    def post(self, request: Request) -> Response:
        data = ManageTokenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        appointment, fee = guest_cancel(
            tenant=request_tenant(request), token=data.validated_data["token"], request=request
        )
        shown = PublicAppointmentSerializer(appointment).data
        return Response({**shown, "late_fee": LATE_FEE.to_representation(fee)})


class ManageRescheduleView(PublicView):
    """Move the appointment through a reschedule link, up to the business's cancellation window
    before its start. The answer carries new manage links; the old ones stop working."""

    @extend_schema(
        tags=["public"],
        request=ManageRescheduleSerializer,
        responses={
            200: BookedSerializer,
            400: TIME_REFUSED,
            403: error_response(
                "`reschedule_window_closed`: the business's cancellation window has opened."
            ),
            404: LINK_REFUSED,
            409: TIME_TAKEN,
        },
    )
    def post(self, request: Request) -> Response:
        data = ManageRescheduleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        moved = guest_reschedule(
            tenant=request_tenant(request), token=data.validated_data["token"],
            starts_at=data.validated_data["starts_at"], request=request,
        )  # fmt: skip
        return Response(_with_links(request, moved))
