from __future__ import annotations

from typing import Any

from rest_framework import serializers

from notifications.webhooks import url_redacted
from plugin_data.models import CustomerPreference, Review, WebhookEndpoint
from plugins.models import Category, PluginInstallation, PluginRating, PluginTemplate


class PermissionSerializer(serializers.Serializer):
    code = serializers.CharField()
    # The metaclass takes declared fields off the class: this is no Field.label (stubs think so).
    label = serializers.CharField()  # type: ignore[assignment]


class PluginSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    category = serializers.ChoiceField(choices=Category.choices)
    description = serializers.CharField(
        help_text="The full description: paragraphs separated by blank lines, '- ' bullets."
    )
    required_permissions = PermissionSerializer(
        many=True, help_text="What the plugin needs; accept them all to install it."
    )
    settings_schema = serializers.JSONField(help_text="JSON Schema of its settings, with defaults.")
    allowed_tiers = serializers.ListField(child=serializers.CharField())
    rating_average = serializers.DecimalField(
        max_digits=3, decimal_places=2, allow_null=True, help_text="1.00-5.00; null: no ratings."
    )

    class Meta:
        model = PluginTemplate
        fields = [
            "id", "slug", "name", "author", "version", "short_description", "description",
            "category", "icon", "required_permissions", "settings_schema", "allowed_tiers",
            "rating_average", "rating_count", "install_count",
        ]  # fmt: skip
        read_only_fields = fields


class InstallSerializer(serializers.Serializer):
    accepted_permissions = serializers.ListField(
        child=serializers.CharField(max_length=64), max_length=20,
        help_text="The codes of the plugin's required_permissions, as consent.",
    )  # fmt: skip
    settings = serializers.JSONField(required=False, help_text="Overrides of the defaults.")


class InstallationSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    plugin = PluginSerializer(read_only=True)
    settings = serializers.JSONField(read_only=True)
    accepted_permissions = serializers.ListField(child=serializers.CharField(), read_only=True)
    installed_by = serializers.EmailField(
        source="installed_by.email", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = PluginInstallation
        fields = [
            "id", "plugin", "settings", "enabled", "accepted_permissions", "installed_by",
            "installed_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class ConfigureSerializer(serializers.Serializer):
    settings = serializers.JSONField(
        required=False, help_text="Settings to change; validated against the plugin's schema."
    )
    enabled = serializers.BooleanField(required=False)


class RatingSerializer(serializers.ModelSerializer):
    score = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    class Meta:
        model = PluginRating
        fields = ["score", "comment", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class WebhookEndpointSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    url = serializers.URLField(max_length=500)
    event_types = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=20,
        help_text="Event kinds it receives; empty or left out: all of them.",
    )  # fmt: skip

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id", "url", "description", "event_types", "enabled", "consecutive_failures",
            "disabled_at", "disabled_reason", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = [
            "consecutive_failures", "disabled_at", "disabled_reason", "created_at", "updated_at",
        ]  # fmt: skip

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        if not self.context.get("full_urls"):
            data["url"] = url_redacted(data["url"])
        return data


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        read_only=True, help_text="Shown only now: keep it to verify the signatures."
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


class ReviewSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    appointment = serializers.UUIDField(source="appointment.public_id", read_only=True)
    service = serializers.UUIDField(source="service.public_id", read_only=True)
    service_name = serializers.CharField(source="service.name", read_only=True)
    customer = serializers.UUIDField(source="customer.public_id", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)

    class Meta:
        model = Review
        fields = [
            "id", "appointment", "service", "service_name", "customer", "customer_name",
            "rating", "comment", "reply", "replied_at", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class ReplySerializer(serializers.Serializer):
    reply = serializers.CharField(max_length=4000, allow_blank=True)


class ReviewSubmitSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")


class ReviewLinkSerializer(serializers.Serializer):
    business = serializers.CharField()
    service = serializers.CharField()
    starts_at = serializers.DateTimeField()
    already_reviewed = serializers.BooleanField()


class CustomerPreferenceSerializer(serializers.ModelSerializer):
    timezone = serializers.CharField(
        max_length=64, allow_blank=True,
        help_text="IANA name for the times in the customer's e-mails; blank: the business's.",
    )  # fmt: skip
    unsubscribed_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = CustomerPreference
        fields = ["timezone", "unsubscribed_at", "updated_at"]
        read_only_fields = ["unsubscribed_at", "updated_at"]
