from __future__ import annotations

from datetime import timedelta
from typing import Any

from rest_framework import serializers

from appointments.models import Allocation, Appointment, AppointmentStatus, Blocker
from appointments.selectors import MAX_RANGE_DAYS
from catalog.models import Service
from core.api.fields import AwareDateTimeField, PublicIdField
from core.validators import validate_timezone
from customers.models import Customer
from resources.models import Resource


class HeldResourceSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="resource.public_id", read_only=True)
    name = serializers.CharField(source="resource.name", read_only=True)
    type = serializers.CharField(source="resource.type", read_only=True)

    class Meta:
        model = Allocation
        fields = ["id", "name", "type", "starts_at", "ends_at"]
        read_only_fields = fields


class AppointmentSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    customer = serializers.UUIDField(source="customer.public_id", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    service = serializers.UUIDField(source="service.public_id", read_only=True)
    service_name = serializers.CharField(source="service.name", read_only=True)
    resources = HeldResourceSerializer(source="allocations", many=True, read_only=True)
    created_by = serializers.UUIDField(
        source="created_by.public_id", read_only=True, allow_null=True,
        help_text="The user who booked it (null once that account is deleted).",
    )  # fmt: skip
    # Output only, like every field here; declared optional rather than read-only so the schema
    # says what customers see: the business's notes are left out of their representation.
    notes = serializers.CharField(
        required=False, help_text="The business's internal notes; absent for customers."
    )
    session = serializers.UUIDField(
        source="session.public_id", read_only=True, allow_null=True,
        help_text="The group session this appointment holds a seat of (its resources are the "
        "session's); null for a one-to-one appointment.",
    )  # fmt: skip
    series = serializers.UUIDField(
        source="series.public_id", read_only=True, allow_null=True,
        help_text="The recurring series this appointment is an occurrence of, if any.",
    )  # fmt: skip
    intake_answers = serializers.JSONField(
        read_only=True, help_text="Answers to the service's intake questions."
    )

    class Meta:
        model = Appointment
        fields = [
            "id", "customer", "customer_name", "service", "service_name", "starts_at", "ends_at",
            "status", "price", "notes", "intake_answers", "resources", "session", "series",
            "occurrence_start", "created_by", "cancelled_at", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class OwnAppointmentSerializer(AppointmentSerializer):
    """A customer's view of its own appointment: without the business's internal notes."""

    class Meta(AppointmentSerializer.Meta):
        fields = [f for f in AppointmentSerializer.Meta.fields if f != "notes"]
        read_only_fields = fields


class AppointmentCreateSerializer(serializers.Serializer):
    service = PublicIdField(queryset=Service.objects.all())
    customer = PublicIdField(
        queryset=Customer.objects.all(),
        required=False,
        help_text="Required for staff; a signed-in customer always books for itself.",
    )
    starts_at = AwareDateTimeField()
    resources = PublicIdField(
        many=True,
        queryset=Resource.objects.all(),
        required=False,
        help_text="One per requirement; left out, free resources are picked.",
    )
    price = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=0, required=False,
        help_text="Defaults to the service's price; only owners and managers may set another.",
    )  # fmt: skip
    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    intake = serializers.JSONField(
        required=False,
        help_text="Answers to the service's intake questions (its `intake_schema`), an object; "
        "checked against that schema (400 `invalid_intake` naming the field).",
    )


class AppointmentUpdateSerializer(serializers.Serializer):
    price = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0, required=False)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class RescheduleSerializer(serializers.Serializer):
    starts_at = AwareDateTimeField()
    resources = PublicIdField(many=True, queryset=Resource.objects.all(), required=False)


class BlockerSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    resource = PublicIdField(queryset=Resource.objects.all())
    starts_at = AwareDateTimeField()
    ends_at = AwareDateTimeField()

    class Meta:
        model = Blocker
        fields = ["id", "resource", "starts_at", "ends_at", "title", "created_at", "updated_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start = attrs.get("starts_at", getattr(self.instance, "starts_at", None))
        end = attrs.get("ends_at", getattr(self.instance, "ends_at", None))
        if start and end and end <= start:
            raise serializers.ValidationError({"ends_at": ["Must be after starts_at."]})
        return attrs


class AvailabilityQuerySerializer(serializers.Serializer):
    service = PublicIdField(queryset=Service.objects.filter(is_active=True))
    start = serializers.DateField(help_text="First local date (inclusive).")
    end = serializers.DateField(
        help_text=f"Last local date (inclusive); at most {MAX_RANGE_DAYS} days."
    )
    timezone = serializers.CharField(
        required=False, validators=[validate_timezone],
        help_text="IANA name the dates and times are in; the business's timezone by default.",
    )  # fmt: skip
    step_minutes = serializers.IntegerField(min_value=5, max_value=240, default=15)
    shape = serializers.ChoiceField(
        choices=["slots", "compact"], default="slots",
        help_text="`slots` (default): one object per free start. `compact`: the starts grouped by "
        "the resources they would hold, as runs on the step grid, each resource described once "
        "(a month is a few KB instead of hundreds).",
    )  # fmt: skip

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["end"] < attrs["start"]:
            raise serializers.ValidationError({"end": ["Must not be before start."]})
        if attrs["end"] - attrs["start"] >= timedelta(days=MAX_RANGE_DAYS):
            raise serializers.ValidationError(
                {"end": [f"A range covers at most {MAX_RANGE_DAYS} days."]}
            )
        return attrs


class SlotResourceSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    type = serializers.CharField()


class SlotSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    resources = SlotResourceSerializer(many=True)
    seats_left = serializers.IntegerField(
        help_text="Places left at this start: 1 for a one-to-one service; for a group service "
        "the seats left in its session (its capacity when no session has started filling)."
    )
    session = serializers.UUIDField(
        allow_null=True, help_text="The group session already open at this start, if any."
    )


class ClosureShownSerializer(serializers.Serializer):
    title = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()


CLOSURES_HELP = "Tenant-wide closures overlapping the range (holidays): nothing is free then."


class AvailabilitySerializer(serializers.Serializer):
    service = serializers.UUIDField()
    timezone = serializers.CharField()
    slots = SlotSerializer(many=True)
    closures = ClosureShownSerializer(many=True, help_text=CLOSURES_HELP)


class SlotRunSerializer(serializers.Serializer):
    first = serializers.DateTimeField(help_text="The run's first free start.")
    count = serializers.IntegerField(
        min_value=1,
        help_text="How many starts: start k (0 <= k < count) is `first` + k x `step_minutes` "
        "(real minutes, so a run stays right across a DST change).",
    )


class SlotGroupSerializer(serializers.Serializer):
    resources = serializers.ListField(
        child=serializers.IntegerField(min_value=0),
        help_text="Indexes into `resources`: what a booking at these starts would hold, one per "
        "requirement in requirement order.",
    )
    duration_minutes = serializers.IntegerField(min_value=1)
    runs = SlotRunSerializer(many=True)


class CompactAvailabilitySerializer(serializers.Serializer):
    service = serializers.UUIDField()
    timezone = serializers.CharField()
    shape = serializers.ChoiceField(choices=["compact"])
    step_minutes = serializers.IntegerField()
    resources = SlotResourceSerializer(many=True, help_text="Each resource a group uses, once.")
    groups = SlotGroupSerializer(many=True)
    closures = ClosureShownSerializer(many=True, help_text=CLOSURES_HELP)


class TransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=AppointmentStatus.choices, read_only=True)
