from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from users.models import User
from users.roles import Role


class UserSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    tenant = serializers.CharField(
        source="tenant.schema_name",
        read_only=True,
        default=None,
        allow_null=True,
        help_text="The business's schema name; null for platform roles.",
    )

    class Meta:
        model = User
        fields = [
            "id", "email", "first_name", "last_name", "role", "tenant", "is_temporary",
            "is_active", "date_joined",
        ]  # fmt: skip
        read_only_fields = fields


class MasqueradeActorSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    actor = serializers.DictField(help_text="The real person acting: id, email, role.")
    channel = serializers.CharField()
    started_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()


class MeSerializer(UserSerializer):
    capabilities = serializers.SerializerMethodField()
    masquerade = serializers.SerializerMethodField(
        help_text="Set when this request is made in a masquerade: who is really acting."
    )

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "capabilities", "masquerade"]
        read_only_fields = fields

    def get_capabilities(self, user: User) -> list[str]:
        return sorted(self.context["capabilities"])

    @extend_schema_field(MasqueradeActorSerializer(allow_null=True))
    def get_masquerade(self, user: User) -> dict | None:
        record = self.context.get("masquerade")
        if record is None:
            return None
        actor = record.hijacker
        return {
            "id": str(record.public_id),
            "actor": {"id": str(actor.public_id), "email": actor.email, "role": actor.role},
            "channel": record.channel,
            "started_at": record.started_at,
            "expires_at": record.expires_at,
        }


class UserCreateSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, min_length=8, max_length=128)
    role = serializers.ChoiceField(choices=Role.choices)
    first_name = serializers.CharField(max_length=150, required=False, default="")
    last_name = serializers.CharField(max_length=150, required=False, default="")


class PlatformUserCreateSerializer(UserCreateSerializer):
    tenant = serializers.SlugField(max_length=63, required=False, allow_null=True, default=None)
    is_temporary = serializers.BooleanField(required=False, default=False)


class LoginSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(write_only=True, max_length=128)


class RefreshTokenSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=4096)


class PasswordChangeSerializer(serializers.Serializer):
    old_password = serializers.CharField(write_only=True, max_length=128)
    new_password = serializers.CharField(write_only=True, max_length=128)
