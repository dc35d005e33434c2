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
    intake_answers = serializers.JSONField(
        read_only=True, help_text="Answers to the service's intake questions."
    )

    class Meta:
        model = Appointment
        fields = [
            "id", "customer", "customer_name", "service", "service_name", "starts_at", "ends_at",
            "status", "price", "notes", "intake_answers", "resources", "created_by",
            "cancelled_at", "created_at", "updated_at",
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


class AvailabilitySerializer(serializers.Serializer):
    service = serializers.UUIDField()
    timezone = serializers.CharField()
    slots = SlotSerializer(many=True)


class TransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=AppointmentStatus.choices, read_only=True)
