from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import serializers

from core.api.fields import PublicIdField
from core.validators import validate_timezone
from resources.models import DateOverride, Resource, ResourceType, WorkingHours
from users.models import User


class TenantUserField(PublicIdField):
    """A user of the request's tenant, by public id; other tenants' users do not exist here."""

    def get_queryset(self) -> QuerySet[User]:
        return User.objects.filter(tenant=self.context["request"].tenant)


class WorkingHoursSerializer(serializers.ModelSerializer):
    weekday = serializers.IntegerField(min_value=0, max_value=6, help_text="Monday = 0")

    class Meta:
        model = WorkingHours
        fields = ["weekday", "start_time", "end_time"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # The list replaces the resource's hours, so each entry is whole even in a PATCH (where
        # DRF would otherwise let nested fields be left out).
        missing = {f: ["This field is required."] for f in self.Meta.fields if f not in attrs}
        if missing:
            raise serializers.ValidationError(missing)
        if attrs["start_time"] >= attrs["end_time"]:
            raise serializers.ValidationError({"end_time": ["Must be after start_time."]})
        return attrs


class ResourceSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    type = serializers.ChoiceField(choices=ResourceType.choices)
    user = TenantUserField(required=False, allow_null=True)
    timezone = serializers.CharField(
        required=False, max_length=64, validators=[validate_timezone],
        help_text="IANA name; the business's timezone when left out.",
    )  # fmt: skip
    working_hours = WorkingHoursSerializer(many=True, required=False)
    has_calendar_feed = serializers.SerializerMethodField()
    photo_url = serializers.SerializerMethodField(
        help_text="Short-lived signed URL of the photo, or null."
    )

    class Meta:
        model = Resource
        fields = [
            "id", "name", "type", "user", "timezone", "is_active", "working_hours",
            "has_calendar_feed", "photo_url", "created_at", "updated_at",
        ]  # fmt: skip

    def get_has_calendar_feed(self, resource: Resource) -> bool:
        return resource.ical_token is not None

    def get_photo_url(self, resource: Resource) -> str | None:
        return resource.photo.url if resource.photo else None


class PhotoUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="PNG, JPEG, WebP or GIF.")


class PhotoSerializer(serializers.Serializer):
    photo_url = serializers.CharField(help_text="Short-lived signed URL of the image.")


class CalendarFeedSerializer(serializers.Serializer):
    url = serializers.CharField(read_only=True)


class DateOverrideSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    resource = PublicIdField(queryset=Resource.objects.all())

    class Meta:
        model = DateOverride
        fields = [
            "id", "resource", "date", "is_closed", "start_time", "end_time", "note",
            "created_at", "updated_at",
        ]  # fmt: skip

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        merged = {
            f: attrs.get(f, getattr(self.instance, f, None))
            for f in ("is_closed", "start_time", "end_time")
        }
        if merged["is_closed"]:
            if merged["start_time"] or merged["end_time"]:
                raise serializers.ValidationError(
                    {"is_closed": ["A closed day has no start_time or end_time."]}
                )
        elif not merged["start_time"] or not merged["end_time"]:
            raise serializers.ValidationError(
                {"start_time": ["Give start_time and end_time, or is_closed: true."]}
            )
        elif merged["start_time"] >= merged["end_time"]:
            raise serializers.ValidationError({"end_time": ["Must be after start_time."]})
        return attrs
