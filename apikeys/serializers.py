from __future__ import annotations

from rest_framework import serializers

from apikeys.models import APIKey
from apikeys.scopes import Scope


class APIKeySerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    prefix = serializers.CharField(
        source="display_prefix", read_only=True, help_text="The key's visible start, 'sk_...'."
    )
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=Scope.choices), min_length=1, max_length=len(Scope)
    )
    expires_at = serializers.DateTimeField(
        required=False, help_text="Default: API_KEY_DEFAULT_DAYS (90) days from now."
    )
    created_by = serializers.EmailField(source="created_by.email", read_only=True)
    is_active = serializers.SerializerMethodField()

    class Meta:
        model = APIKey
        fields = [
            "id", "name", "prefix", "scopes", "created_by", "created_at", "expires_at",
            "last_used_at", "revoked_at", "is_active",
        ]  # fmt: skip
        read_only_fields = ["created_at", "last_used_at", "revoked_at"]

    def get_is_active(self, key: APIKey) -> bool:
        return key.is_live()


class APIKeyWithSecretSerializer(APIKeySerializer):
    key = serializers.CharField(
        read_only=True,
        help_text="The whole key, shown only now: send it as 'Authorization: Api-Key <key>'.",
    )

    class Meta(APIKeySerializer.Meta):
        fields = [*APIKeySerializer.Meta.fields, "key"]
