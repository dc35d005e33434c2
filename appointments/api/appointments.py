"""Bookings: list, create (Idempotency-Key), notes and price, reschedule and the status machine."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from appointments import permissions
from appointments.api.serializers import (
    AppointmentCreateSerializer,
    AppointmentSerializer,
    AppointmentUpdateSerializer,
    OwnAppointmentSerializer,
    RescheduleSerializer,
)
from appointments.models import Appointment, AppointmentStatus
from appointments.policy import check_customer_may_reschedule
from appointments.selectors import appointment_list
from appointments.services import (
    appointment_book_as_user,
    appointment_reschedule,
    appointment_transition,
    appointment_update,
)
from core.api.filters import UTCIsoDateTimeFilter
from core.api.openapi import error_response
from core.api.viewsets import PublicIdLookupMixin
from tenancy.http import request_tenant
from users.http import request_user

CONFLICT_EXAMPLE = OpenApiExample(
    "The resource is taken",
    value={
        "error": {
            "code": "resource_busy",
            "message": "'Haircut' cannot be booked at 2026-05-04T10:00:00+02:00: 'Ana' already "
            "booked or blocked then.",
            "fields": {"resources": ["'Ana' (0b9f...) is booked or blocked then."]},
        }
    },
    response_only=True,
    status_codes=["409"],
)
CLOSED_EXAMPLE = OpenApiExample(
    "Nobody works then",
    value={
        "error": {
            "code": "outside_hours",
            "message": "'Haircut' cannot be booked at 2026-05-04T22:00:00+02:00: no eligible "
            "staff works then.",
            "fields": {
                "starts_at": [
                    "Outside the working hours of every eligible resource; ask "
                    "/api/availability/ for free times."
                ]
            },
        }
    },
    response_only=True,
    status_codes=["400"],
)
TIME_REFUSED = error_response(
    "Field errors (`invalid`), or a time the service cannot be booked at: `in_past`, `too_soon` "
    "(minimum notice), `too_far_ahead` (booking horizon), `outside_hours` (no eligible resource "
    "works then), `tenant_closed` (a tenant-wide closure), `no_eligible_resource`.",
    CLOSED_EXAMPLE,
)
TIME_TAKEN = error_response(
    "`resource_busy`: another booking or a blocker holds a resource then (ask "
    "/api/availability/); `idempotency_key_reused`: the key came with another body.",
    CONFLICT_EXAMPLE,
)
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Makes retries safe: the same key with the same body returns the first "
    "appointment (200, header `Idempotent-Replayed: true`) instead of booking twice, also while "
    "the first request is still running (the retry waits for it); with another body it is a 409 "
    "`idempotency_key_reused`. Keys are per user, up to 128 characters.",
)
PRICE_REFUSED = error_response(
    "Your role may not do this to this appointment (`permission_denied`), or may not set its "
    "price (`price_not_allowed`)."
)
REPLAYED_HEADER = OpenApiParameter(
    "Idempotent-Replayed",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    enum=["true"],
    response=[200],
    description="The appointment was booked by an earlier request with this Idempotency-Key.",
)
UNAVAILABLE = error_response(
    "The database is unreachable; nothing was saved (`database_unavailable`). Retry after "
    "`Retry-After` seconds with the same Idempotency-Key."
)


class AppointmentFilter(filters.FilterSet):
    start = UTCIsoDateTimeFilter(
        field_name="ends_at", lookup_expr="gt", help_text="Appointments ending after this"
    )
    end = UTCIsoDateTimeFilter(
        field_name="starts_at", lookup_expr="lt", help_text="Appointments starting before this"
    )
    status = filters.MultipleChoiceFilter(choices=AppointmentStatus.choices)
    resource = filters.UUIDFilter(field_name="allocations__resource__public_id", distinct=True)
    customer = filters.UUIDFilter(field_name="customer__public_id")
    service = filters.UUIDFilter(field_name="service__public_id")

    class Meta:
        model = Appointment
        fields = ["start", "end", "status", "resource", "customer", "service"]


def _request_digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


@extend_schema_view(
    list=extend_schema(tags=["appointments"]),
    retrieve=extend_schema(tags=["appointments"]),
)
class AppointmentViewSet(
    PublicIdLookupMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Bookings. Create picks free resources when none are named; all or nothing."""

    queryset = Appointment.objects.none()  # for the schema generator; get_queryset scopes
    serializer_class = AppointmentSerializer
    permission_classes = permissions.APPOINTMENT_PERMISSIONS
    filterset_class = AppointmentFilter
    http_method_names = ["get", "post", "patch"]

    def get_serializer_class(self) -> type[AppointmentSerializer]:
        if getattr(self, "swagger_fake_view", False) or permissions.sees_whole_schedule(
            user=self.request.user, tenant=request_tenant(self.request)
        ):
            return AppointmentSerializer
        return OwnAppointmentSerializer

    def get_queryset(self) -> Any:
        return permissions.visible_appointments(
            appointment_list(), user=self.request.user, tenant=request_tenant(self.request)
        )

    def get_object(self) -> Appointment:
        return permissions.appointment_get_for(
            appointment_list(), user=self.request.user, tenant=request_tenant(self.request),
            public_id=self.kwargs["id"],
        )  # fmt: skip

    def _fetch_for(self, action_name: str) -> Appointment:
        appointment = self.get_object()
        permissions.check_appointment_action(
            user=request_user(self.request), tenant=request_tenant(self.request),
            appointment=appointment,
            action=action_name,
        )  # fmt: skip
        return appointment

    def _respond(
        self,
        representation: type[AppointmentSerializer],
        appointment: Appointment,
        status: int = 200,
    ) -> Response:
        # Services return what they committed, loaded, and the representation was chosen before
        # the write: no read after the commit can turn a saved write into an error.
        return Response(representation(appointment).data, status=status)

    @extend_schema(
        tags=["appointments"],
        request=AppointmentCreateSerializer,
        parameters=[IDEMPOTENCY_HEADER, REPLAYED_HEADER],
        responses={
            201: AppointmentSerializer,
            200: OpenApiResponse(AppointmentSerializer, "Replay of an Idempotency-Key"),
            400: TIME_REFUSED,
            403: PRICE_REFUSED,
            409: TIME_TAKEN,
            503: UNAVAILABLE,
        },
        examples=[
            OpenApiExample(
                "Book the first free stylist",
                value={
                    "service": "5d7a...",
                    "customer": "9c1e...",
                    "starts_at": "2026-05-04T10:00:00+02:00",
                },
                request_only=True,
            ),
            OpenApiExample(
                "Book named resources",
                value={
                    "service": "5d7a...",
                    "customer": "9c1e...",
                    "starts_at": "2026-05-04T10:00:00Z",
                    "resources": ["<stylist id>", "<room id>"],
                    "notes": "First visit",
                },
                request_only=True,
            ),
        ],
    )
    def create(self, request: Request) -> Response:
        data = AppointmentCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = data.validated_data
        key = request.headers.get("Idempotency-Key", "").strip()
        if len(key) > 128:
            raise serializers.ValidationError({"Idempotency-Key": ["At most 128 characters."]})
        representation = self.get_serializer_class()
        appointment, created = appointment_book_as_user(
            tenant=request_tenant(request),
            actor=request_user(request),
            service=values["service"],
            customer=values.get("customer"),
            starts_at=values["starts_at"],
            resources=values.get("resources"),
            price=values.get("price"),
            notes=values["notes"],
            intake_answers=values.get("intake"),
            idempotency_key=key,
            request_digest=_request_digest(request.data) if key else "",
            request=request,
        )
        response = self._respond(representation, appointment, status=201 if created else 200)
        if not created:
            response["Idempotent-Replayed"] = "true"
        return response

    @extend_schema(
        tags=["appointments"],
        request=AppointmentUpdateSerializer,
        responses={200: AppointmentSerializer, 403: PRICE_REFUSED},
        description="Change notes or price; move it with /reschedule/.",
    )
    def partial_update(self, request: Request, id: str) -> Response:
        appointment = self._fetch_for("update")
        data = AppointmentUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        representation = self.get_serializer_class()
        updated = appointment_update(
            tenant=request_tenant(request), appointment=appointment, actor=request_user(request),
            request=request, **data.validated_data,
        )  # fmt: skip
        return self._respond(representation, updated)

    @extend_schema(
        tags=["appointments"],
        request=RescheduleSerializer,
        responses={
            200: AppointmentSerializer,
            400: TIME_REFUSED,
            403: error_response(
                "Your role may not move this appointment (`permission_denied`), or a customer "
                "is inside the business's cancellation window (`reschedule_window_closed`)."
            ),
            409: TIME_TAKEN,
        },
        description="Customers move their own appointments up to the business's cancellation "
        "window (`cancellation_window_hours`) before the start.",
    )
    @action(detail=True, methods=["post"])
    def reschedule(self, request: Request, id: str) -> Response:
        appointment = self._fetch_for("reschedule")
        data = RescheduleSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        if permissions.books_for_self(user=request.user, tenant=request_tenant(request)):
            check_customer_may_reschedule(
                tenant=request_tenant(request), appointment=appointment, now=timezone.now()
            )
        representation = self.get_serializer_class()
        moved = appointment_reschedule(
            tenant=request_tenant(request), actor=request_user(request), appointment=appointment,
            starts_at=data.validated_data["starts_at"],
            resources=data.validated_data.get("resources"), request=request,
        )  # fmt: skip
        return self._respond(representation, moved)

    def _transition(self, request: Request, action_name: str, to: str) -> Response:
        appointment = self._fetch_for(action_name)
        representation = self.get_serializer_class()
        moved = appointment_transition(
            tenant=request_tenant(request), actor=request_user(request), appointment=appointment,
            to=to, request=request,
        )  # fmt: skip
        return self._respond(representation, moved)

    @extend_schema(tags=["appointments"], request=None, responses=AppointmentSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, id: str) -> Response:
        return self._transition(request, "confirm", AppointmentStatus.CONFIRMED)

    @extend_schema(
        tags=["appointments"],
        request=None,
        responses=AppointmentSerializer,
        description="Marks it done and bills its price.",
    )
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, id: str) -> Response:
        return self._transition(request, "complete", AppointmentStatus.COMPLETED)

    @extend_schema(tags=["appointments"], request=None, responses=AppointmentSerializer)
    @action(detail=True, methods=["post"], url_path="no-show")
    def no_show(self, request: Request, id: str) -> Response:
        return self._transition(request, "no_show", AppointmentStatus.NO_SHOW)

    @extend_schema(
        tags=["appointments"],
        request=None,
        responses=AppointmentSerializer,
        description="Releases the resources. Inside the business's cancellation window a "
        "late-cancellation fee (a share of the price) is charged.",
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, id: str) -> Response:
        return self._transition(request, "cancel", AppointmentStatus.CANCELLED)
