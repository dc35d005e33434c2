from rest_framework import serializers

from billing.models import Charge, PaymentStatus
from core.api.fields import AwareDateTimeField
from tenancy.models import Tenant


class ChargeSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    appointment = serializers.UUIDField(source="appointment.public_id", read_only=True)
    customer = serializers.UUIDField(source="customer.public_id", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)

    class Meta:
        model = Charge
        fields = [
            "id", "appointment", "customer", "customer_name", "kind", "amount", "status",
            "paid_at", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class ChargeStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=PaymentStatus.choices,
        help_text="PENDING -> PAID or VOID; PAID -> REFUNDED.",
    )


class RevenueQuerySerializer(serializers.Serializer):
    start = AwareDateTimeField(required=False)
    end = AwareDateTimeField(required=False)

    def validate(self, attrs: dict) -> dict:
        if attrs.get("start") and attrs.get("end") and attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": ["Must be after start."]})
        return attrs


class RevenueSummarySerializer(serializers.Serializer):
    start = serializers.DateTimeField(allow_null=True)
    end = serializers.DateTimeField(allow_null=True)
    count = serializers.IntegerField()
    paid = serializers.DecimalField(max_digits=14, decimal_places=2)
    outstanding = serializers.DecimalField(max_digits=14, decimal_places=2)
    refunded = serializers.DecimalField(max_digits=14, decimal_places=2)
    void = serializers.DecimalField(max_digits=14, decimal_places=2)
    appointments = serializers.DecimalField(max_digits=14, decimal_places=2)
    late_cancellation_fees = serializers.DecimalField(max_digits=14, decimal_places=2)


class BillingSettingsSerializer(serializers.ModelSerializer):
    cancellation_window_hours = serializers.IntegerField(min_value=0, max_value=24 * 30)
    late_cancellation_fee_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100
    )

    class Meta:
        model = Tenant
        fields = ["cancellation_window_hours", "late_cancellation_fee_percent"]
