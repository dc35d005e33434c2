"""Recurring series (issue 13): book a rule's occurrences, list them, cancel or move one, this and
the following ones, or all."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from access.scoping import get_visible, visible_to
from appointments import permissions
from appointments.api.serializers import AppointmentSerializer, OwnAppointmentSerializer
from appointments.models import AppointmentSeries
from appointments.recurrence import MAX_OCCURRENCES
from appointments.selectors import (
    appointment_list,
    series_in_scope,
    series_list,
    series_shown,
)
from appointments.services.booking import customer_booked_for
from appointments.services.series import SCOPES, series_book, series_cancel, series_reschedule
from catalog.models import Service
from core.api.fields import AwareDateTimeField, PublicIdField
from core.api.openapi import error_response
from core.api.viewsets import PublicIdLookupMixin
from core.validators import validate_timezone
from customers.models import Customer
from resources.models import Resource
from tenancy.http import request_tenant
from users.http import request_user
from users.roles import Capability


class ConflictSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    code = serializers.CharField()
    message = serializers.CharField()


class SeriesSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    service = serializers.UUIDField(source="service.public_id", read_only=True)
    customer = serializers.UUIDField(source="customer.public_id", read_only=True)
    rrule = serializers.CharField(source="rule", read_only=True)
    occurrences = AppointmentSerializer(many=True, read_only=True)

    class Meta:
        model = AppointmentSeries
        fields = [
            "id", "service", "customer", "rrule", "timezone", "first_start", "occurrences",
            "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class OwnSeriesSerializer(SeriesSerializer):
    occurrences = OwnAppointmentSerializer(many=True, read_only=True)


# The booking's documented answer; the view adds the conflicts the write returned.
class SeriesBookedSerializer(SeriesSerializer):
    conflicts = ConflictSerializer(
        many=True,
        read_only=True,
        help_text="Occurrences not booked (only with book_free_only).",
    )

    class Meta(SeriesSerializer.Meta):
        fields = [*SeriesSerializer.Meta.fields, "conflicts"]
        read_only_fields = fields


class SeriesCreateSerializer(serializers.Serializer):
    service = PublicIdField(queryset=Service.objects.all())
    customer = PublicIdField(
        queryset=Customer.objects.all(),
        required=False,
        help_text="Required for staff; a signed-in customer always books for itself.",
    )
    starts_at = AwareDateTimeField(help_text="The first occurrence.")
    rrule = serializers.CharField(
        max_length=200,
        help_text="An RFC 5545 RRULE subset: FREQ=DAILY or WEEKLY, INTERVAL, BYDAY (plain "
        f"weekdays), and COUNT or UNTIL; at most {MAX_OCCURRENCES} occurrences.",
    )
    timezone = serializers.CharField(
        required=False,
        validators=[validate_timezone],
        help_text="IANA name whose wall clock the rule follows; the business's by default.",
    )
    resources = PublicIdField(many=True, queryset=Resource.objects.all(), required=False)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    book_free_only = serializers.BooleanField(
        default=False,
        help_text="Book the free occurrences and report the others, instead of all or nothing.",
    )


class SeriesScopeSerializer(serializers.Serializer):
    scope = serializers.ChoiceField(choices=SCOPES)
    occurrence = serializers.UUIDField(
        required=False,
        help_text="The occurrence (an appointment id of the series); required unless scope is "
        "'all'.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["scope"] != "all" and "occurrence" not in attrs:
            raise serializers.ValidationError({"occurrence": ["Name the occurrence."]})
        return attrs


class SeriesMoveSerializer(SeriesScopeSerializer):
    starts_at = AwareDateTimeField(
        help_text="The occurrence's new start; the others in scope move by the same shift of the "
        "local wall clock."
    )


class SeriesChangedSerializer(serializers.Serializer):
    appointments = AppointmentSerializer(many=True)


SERIES_REFUSED = error_response(
    "Field errors (`invalid`, e.g. `rrule` outside the subset or giving more than "
    f"{MAX_OCCURRENCES} occurrences), or a first start the service cannot be booked at "
    "(`in_past`, `too_soon`, `too_far_ahead`)."
)
SERIES_CONFLICT = error_response(
    "`series_conflict`: some occurrences cannot be booked (each named in `fields.occurrences`); "
    "nothing was booked.",
    OpenApiExample(
        "One occurrence taken",
        value={
            "error": {
                "code": "series_conflict",
                "message": "1 of 10 occurrences cannot be booked; nothing was booked.",
                "fields": {"occurrences": ["2026-05-11T09:00:00+02:00: 'Ana' already booked."]},
            }
        },
        response_only=True,
        status_codes=["409"],
    ),
)


@extend_schema_view(
    list=extend_schema(tags=["appointment-series"]),
    retrieve=extend_schema(tags=["appointment-series"]),
)
class AppointmentSeriesViewSet(
    PublicIdLookupMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Recurring series: every occurrence is a real appointment."""

    queryset = AppointmentSeries.objects.none()  # for the schema generator; get_queryset scopes
    serializer_class = SeriesSerializer
    permission_classes = permissions.APPOINTMENT_PERMISSIONS
    http_method_names = ["get", "post"]

    def _own_only(self) -> bool:
        return not (
            getattr(self, "swagger_fake_view", False)
            or permissions.sees_whole_schedule(
                user=self.request.user, tenant=request_tenant(self.request)
            )
        )

    def get_serializer_class(self) -> type[SeriesSerializer]:
        return OwnSeriesSerializer if self._own_only() else SeriesSerializer

    def get_queryset(self) -> Any:
        occurrences = Prefetch(
            "occurrences", queryset=appointment_list().order_by("occurrence_start", "id")
        )
        return visible_to(
            series_list().prefetch_related(occurrences).order_by("first_start", "id"),
            user=self.request.user,
            tenant=request_tenant(self.request),
            sees_all=Capability.VIEW_SCHEDULE,
            own_user_field="customer__user_id",
        )

    def get_object(self) -> AppointmentSeries:
        return get_visible(self.get_queryset(), public_id=self.kwargs["id"], noun="series")

    @extend_schema(
        tags=["appointment-series"],
        request=SeriesCreateSerializer,
        responses={
            201: SeriesBookedSerializer,
            400: SERIES_REFUSED,
            403: error_response("Your role may not book this (`permission_denied`)."),
            409: SERIES_CONFLICT,
        },
        examples=[
            OpenApiExample(
                "Every Monday and Wednesday at 09:00, ten times",
                value={
                    "service": "5d7a...",
                    "customer": "9c1e...",
                    "starts_at": "2026-05-04T09:00:00+02:00",
                    "rrule": "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10",
                },
                request_only=True,
            )
        ],
    )
    def create(self, request: Request) -> Response:
        data = SeriesCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = data.validated_data
        tenant = request_tenant(request)
        customer = customer_booked_for(
            tenant=tenant, actor=request_user(request), named=values.get("customer")
        )
        representation = self.get_serializer_class()
        booked = series_book(
            tenant=tenant,
            actor=request_user(request),
            service=values["service"],
            customer=customer,
            starts_at=values["starts_at"],
            rule=values["rrule"],
            tz=ZoneInfo(values.get("timezone") or tenant.timezone),
            resources=values.get("resources"),
            notes=values["notes"],
            book_free_only=values["book_free_only"],
            request=request,
        )
        series = series_shown(booked.series, booked.appointments)
        conflicts = ConflictSerializer(booked.conflicts, many=True).data
        return Response({**representation(series).data, "conflicts": conflicts}, status=201)

    def _in_scope(self, request: Request, data: serializers.Serializer, action_name: str) -> tuple:
        series = self.get_object()
        values = data.validated_data
        occurrence = None
        if "occurrence" in values:
            occurrence = next(
                (a for a in series.occurrences.all() if a.public_id == values["occurrence"]), None
            )
            if occurrence is None:
                raise serializers.ValidationError(
                    {"occurrence": ["Not an occurrence of this series."]}
                )
        targets = series_in_scope(series, scope=values["scope"], occurrence=occurrence)
        for appointment in targets:
            permissions.check_appointment_action(
                user=request_user(request),
                tenant=request_tenant(request),
                appointment=appointment,
                action=action_name,
            )
        return series, targets, occurrence

    def _changed(self, appointments: list) -> Response:
        representation = OwnAppointmentSerializer if self._own_only() else AppointmentSerializer
        return Response({"appointments": representation(appointments, many=True).data})

    @extend_schema(
        tags=["appointment-series"],
        request=SeriesScopeSerializer,
        responses={
            200: SeriesChangedSerializer,
            400: error_response("Field errors, or nothing open in scope (`invalid_transition`)."),
        },
        description="Cancel one occurrence ('this'), it and the later ones ('following') or all; "
        "each as a single cancellation (late fee inside the window, place offered to the "
        "waitlist). The iCalendar feed then lists the cancelled ones as EXDATE.",
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, id: str) -> Response:
        data = SeriesScopeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        series, targets, _ = self._in_scope(request, data, "cancel")
        cancelled = series_cancel(
            tenant=request_tenant(request),
            actor=request_user(request),
            series=series,
            appointments=targets,
            scope=data.validated_data["scope"],
            request=request,
        )
        return self._changed(cancelled)

    @extend_schema(
        tags=["appointment-series"],
        request=SeriesMoveSerializer,
        responses={
            200: SeriesChangedSerializer,
            400: error_response(
                "Field errors, nothing open in scope (`invalid_transition`), or a new time the "
                "service cannot be booked at (`in_past`, `too_soon`, `too_far_ahead`, "
                "`outside_hours`)."
            ),
            409: error_response("`resource_busy`: a moved occurrence meets another booking."),
        },
        description="Move one occurrence, it and the later ones, or all, by the shift from the "
        "named occurrence's start to `starts_at` on the local wall clock; all or nothing.",
    )
    @action(detail=True, methods=["post"])
    def reschedule(self, request: Request, id: str) -> Response:
        data = SeriesMoveSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        series, targets, occurrence = self._in_scope(request, data, "move_series")
        anchor = occurrence or next(iter(targets), None)
        if anchor is None:
            raise serializers.ValidationError({"scope": ["The series has no occurrence."]})
        moved = series_reschedule(
            tenant=request_tenant(request),
            actor=request_user(request),
            series=series,
            appointments=targets,
            anchor=anchor,
            starts_at=data.validated_data["starts_at"],
            scope=data.validated_data["scope"],
            request=request,
        )
        return self._changed(moved)
