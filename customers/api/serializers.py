from rest_framework import serializers

from customers.models import Customer, CustomerStatus
from resources.api.serializers import TenantUserField


class CustomerSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    status = serializers.ChoiceField(
        choices=CustomerStatus.choices, required=False, help_text="Internal; absent for customers."
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=40), max_length=20, required=False,
        help_text="Internal; absent for customers.",
    )  # fmt: skip
    user = TenantUserField(required=False, allow_null=True)
    total_spend = serializers.DecimalField(
        max_digits=12, decimal_places=2, read_only=True, help_text="Sum of paid charges."
    )
    last_visit = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="Start of the latest completed appointment; null before the first one.",
    )
    no_show_count = serializers.IntegerField(
        read_only=True, help_text="Appointments marked NO_SHOW (no-show-tracking plugin)."
    )

    class Meta:
        model = Customer
        fields = [
            "id", "name", "email", "phone", "address", "status", "tags", "notes", "user",
            "total_spend", "last_visit", "no_show_count", "created_at", "updated_at",
        ]  # fmt: skip
        extra_kwargs = {"notes": {"help_text": "Internal; absent for customers."}}


class OwnCustomerSerializer(CustomerSerializer):
    """A customer's view of its own record: without the business's internal status, tags and
    notes."""

    class Meta(CustomerSerializer.Meta):
        fields = [
            "id", "name", "email", "phone", "address", "user", "total_spend", "last_visit",
            "no_show_count", "created_at", "updated_at",
        ]  # fmt: skip


class PersonalDataSerializer(serializers.Serializer):
    """A customer's personal data (GDPR right of access); amounts are decimal strings."""

    customer = serializers.DictField(help_text="The customer record, the business's notes too.")
    account = serializers.DictField(
        allow_null=True, help_text="The customer's sign-in account; null without one."
    )
    appointments = serializers.ListField(child=serializers.DictField())
    charges = serializers.ListField(child=serializers.DictField())
    reviews = serializers.ListField(child=serializers.DictField())
    preferences = serializers.DictField(allow_null=True, help_text="E-mail preferences.")
