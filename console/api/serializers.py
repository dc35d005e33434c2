from decimal import Decimal

from rest_framework import serializers

from tenancy.models import Domain, Tenant


class DomainSerializer(serializers.ModelSerializer):
    class Meta:
        model = Domain
        fields = [
            "domain", "is_primary", "is_custom_domain", "verification_status",
            "verification_checked_at",
        ]  # fmt: skip
        read_only_fields = fields


class TenantSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    domains = DomainSerializer(many=True, read_only=True)

    class Meta:
        model = Tenant
        fields = [
            "id", "name", "schema_name", "subscription_tier", "status", "timezone",
            "cancellation_window_hours", "late_cancellation_fee_percent", "deletion_due_at",
            "created_at", "domains",
        ]  # fmt: skip
        read_only_fields = fields
        extra_kwargs = {
            "deletion_due_at": {
                "help_text": "When the scheduled deletion is due (its hosts answer 410 meanwhile); "
                "null when none is scheduled."
            }
        }


class TenantCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    schema_name = serializers.CharField(max_length=63)
    domain = serializers.CharField(max_length=253)
    subscription_tier = serializers.ChoiceField(choices=Tenant.Tier.choices, default="FREE")
    status = serializers.ChoiceField(choices=Tenant.Status.choices, default="ACTIVE")
    timezone = serializers.CharField(max_length=64, default="UTC")
    cancellation_window_hours = serializers.IntegerField(min_value=0, max_value=720, default=24)
    late_cancellation_fee_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, default=Decimal(0)
    )


class TenantUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    subscription_tier = serializers.ChoiceField(choices=Tenant.Tier.choices, required=False)
    status = serializers.ChoiceField(choices=Tenant.Status.choices, required=False)
    timezone = serializers.CharField(max_length=64, required=False)
    cancellation_window_hours = serializers.IntegerField(min_value=0, max_value=720, required=False)
    late_cancellation_fee_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, required=False
    )
