from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from appointments.models import Appointment
from appointments.selectors import appointments_inside
from closures.models import Closure
from core.api.fields import AwareDateTimeField


class AffectedAppointmentSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    service_name = serializers.CharField(source="service.name", read_only=True)

    class Meta:
        model = Appointment
        fields = ["id", "starts_at", "ends_at", "status", "customer_name", "service_name"]
        read_only_fields = fields


class ClosureSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    starts_at = AwareDateTimeField()
    ends_at = AwareDateTimeField()
    affected_appointments = serializers.SerializerMethodField(
        help_text="Open appointments inside the closure. They are kept: move or cancel them "
        "yourself (booking new ones inside is refused with `tenant_closed`)."
    )

    # What a write found in its own transaction, handed over by the view; a read looks now.
    affected: Sequence[Appointment] | None = None

    class Meta:
        model = Closure
        fields = [
            "id", "title", "starts_at", "ends_at", "affected_appointments", "created_at",
            "updated_at",
        ]  # fmt: skip

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start = attrs.get("starts_at", getattr(self.instance, "starts_at", None))
        end = attrs.get("ends_at", getattr(self.instance, "ends_at", None))
        if start and end and end <= start:
            raise serializers.ValidationError({"ends_at": ["Must be after starts_at."]})
        return attrs

    @extend_schema_field(AffectedAppointmentSerializer(many=True))
    def get_affected_appointments(self, closure: Closure) -> list[dict[str, Any]]:
        affected = self.affected
        if affected is None:
            affected = appointments_inside(closure)
        # many=True makes a ListSerializer, whose data is a list; the stubs type only the child's.
        return AffectedAppointmentSerializer(affected, many=True).data  # type: ignore[return-value]
