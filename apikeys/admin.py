"""API keys in the admin: read-only (they are created and revoked by the business's owners
through the API, which shows the secret once and audits both). Each operator sees the keys of
the tenants on whose host it may manage keys through the API (``apikeys.selectors``)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from apikeys.models import APIKey
from apikeys.selectors import api_keys_for
from core.admin_kit import ReadOnlyAdmin
from users.http import request_user


@admin.register(APIKey)
class APIKeyAdmin(ReadOnlyAdmin):
    list_display = [
        "name", "display_prefix", "tenant", "created_by", "scopes", "created_at", "expires_at",
        "last_used_at", "revoked_at",
    ]  # fmt: skip
    list_filter = ["tenant"]
    search_fields = ["name", "prefix", "tenant__name", "created_by__email"]
    exclude = ["secret_sha256"]
    list_select_related = ["tenant", "created_by"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[APIKey]:
        return api_keys_for(viewer=request_user(request))
