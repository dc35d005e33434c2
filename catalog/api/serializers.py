from __future__ import annotations

from typing import Any

from rest_framework import serializers

from appointments.intake import intake_schema_problems
from catalog.models import Service, ServiceRequirement
from core.api.fields import PublicIdField
from resources.models import Resource, ResourceType


class RequirementSerializer(serializers.ModelSerializer):
    resource_type = serializers.ChoiceField(choices=ResourceType.choices)
    eligible_resources = PublicIdField(many=True, queryset=Resource.objects.all())

    class Meta:
        model = ServiceRequirement
        fields = ["resource_type", "eligible_resources"]

    def validate_eligible_resources(self, value: list[Resource]) -> list[Resource]:
        if not value:
            raise serializers.ValidationError("Name at least one eligible resource.")
        return value


MINUTES_IN_A_DAY = 24 * 60


class ServiceSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    duration_minutes = serializers.IntegerField(min_value=1, max_value=MINUTES_IN_A_DAY)
    price = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0)
    buffer_before_minutes = serializers.IntegerField(
        min_value=0, max_value=MINUTES_IN_A_DAY, required=False
    )
    buffer_after_minutes = serializers.IntegerField(
        min_value=0, max_value=MINUTES_IN_A_DAY, required=False
    )
    min_notice_minutes = serializers.IntegerField(min_value=0, required=False)
    max_advance_days = serializers.IntegerField(min_value=1, max_value=730, required=False)
    requirements = RequirementSerializer(many=True, required=False)
    rating_average = serializers.DecimalField(
        max_digits=3, decimal_places=2, read_only=True, allow_null=True, default=None,
        help_text="Average of customers' reviews (review-requests plugin); null: none yet.",
    )  # fmt: skip
    rating_count = serializers.IntegerField(read_only=True, default=0)
    intake_schema = serializers.JSONField(
        required=False,
        help_text="Intake questions as a JSON Schema object (typed `properties`, `required`, "
        '`enum` for choices), e.g. {"type": "object", "properties": {"allergies": '
        '{"type": "string"}}, "required": ["allergies"]}; {} asks nothing.',
    )

    class Meta:
        model = Service
        fields = [
            "id", "name", "description", "duration_minutes", "price", "buffer_before_minutes",
            "buffer_after_minutes", "min_notice_minutes", "max_advance_days", "is_active",
            "requirements", "intake_schema", "rating_average", "rating_count", "created_at",
            "updated_at",
        ]  # fmt: skip

    def validate_intake_schema(self, value: Any) -> Any:
        problems = intake_schema_problems(value)
        if problems:
            raise serializers.ValidationError(problems)
        return value

    def validate_requirements(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(value) > 5:
            raise serializers.ValidationError("A service holds at most 5 resources.")
        return value
