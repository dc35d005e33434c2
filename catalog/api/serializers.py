from __future__ import annotations

from typing import Any

from rest_framework import serializers

from catalog.intake import intake_schema_problems
from catalog.models import Service, ServiceRequirement, ServiceResourceOverride
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
# A notice longer than the longest booking horizon (730 days) leaves no bookable start.
MAX_NOTICE_MINUTES = 730 * MINUTES_IN_A_DAY


class ResourceOverrideSerializer(serializers.ModelSerializer):
    resource = PublicIdField(queryset=Resource.objects.all())
    price = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=0, required=False, allow_null=True,
        help_text="The price with this resource; null or left out: the service's.",
    )  # fmt: skip
    duration_minutes = serializers.IntegerField(
        min_value=1, max_value=MINUTES_IN_A_DAY, required=False, allow_null=True,
        help_text="How long it takes with this resource; null or left out: the service's.",
    )  # fmt: skip

    class Meta:
        model = ServiceResourceOverride
        fields = ["resource", "price", "duration_minutes"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("price") is None and attrs.get("duration_minutes") is None:
            raise serializers.ValidationError(
                {"price": ["Give a price, a duration_minutes, or both."]}
            )
        return attrs


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
    min_notice_minutes = serializers.IntegerField(
        min_value=0, max_value=MAX_NOTICE_MINUTES, required=False
    )
    max_advance_days = serializers.IntegerField(min_value=1, max_value=730, required=False)
    capacity = serializers.IntegerField(
        min_value=1, max_value=1000, required=False,
        help_text="Seats per session: above 1 the service is a group session (a class).",
    )  # fmt: skip
    requirements = RequirementSerializer(many=True, required=False)
    resource_overrides = ResourceOverrideSerializer(
        many=True, required=False,
        help_text="Per-resource price and duration (e.g. a senior stylist costs more and takes "
        "longer). Booking with several resources that have one takes the highest price and "
        "the longest duration among them; resources without one take the service's.",
    )  # fmt: skip
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
            "capacity", "allow_multiple_seats", "requirements", "resource_overrides",
            "intake_schema", "rating_average", "rating_count", "created_at", "updated_at",
        ]  # fmt: skip

    def validate_resource_overrides(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(value) > 50:
            raise serializers.ValidationError("At most 50 resource overrides.")
        return value

    def validate_intake_schema(self, value: Any) -> Any:
        problems = intake_schema_problems(value)
        if problems:
            raise serializers.ValidationError(problems)
        return value

    def validate_requirements(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(value) > 5:
            raise serializers.ValidationError("A service holds at most 5 resources.")
        return value
