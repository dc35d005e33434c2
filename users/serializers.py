from rest_framework import serializers

from users.models import User
from users.roles import Role


class UserSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    tenant = serializers.CharField(source="tenant.schema_name", read_only=True, default=None)

    class Meta:
        model = User
        fields = [
            "id", "email", "first_name", "last_name", "role", "tenant", "is_temporary",
            "is_active", "date_joined",
        ]  # fmt: skip
        read_only_fields = fields


class MeSerializer(UserSerializer):
    capabilities = serializers.SerializerMethodField()

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "capabilities"]
        read_only_fields = fields

    def get_capabilities(self, user: User) -> list[str]:
        return sorted(self.context["capabilities"])


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
