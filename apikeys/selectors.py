"""Reads of API keys: a tenant's list, the operators' admin view, and finding the key a request
presents."""

from __future__ import annotations

import hmac
import re
from uuid import UUID

from django.db.models import QuerySet

from access.selectors import tenant_list_reached_by
from apikeys.models import APIKey
from apikeys.services import secret_digest
from tenancy.models import Tenant
from users.models import User
from users.roles import Capability

# "sk_" + 12 hex digits + "_" + 43 url-safe base64 characters (secrets.token_urlsafe(32)).
KEY_PATTERN = re.compile(r"^sk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")


def api_key_list(*, tenant: Tenant) -> QuerySet[APIKey]:
    return APIKey.objects.filter(tenant=tenant).select_related("created_by", "revoked_by")


def api_key_get(*, tenant: Tenant, public_id: UUID | str) -> APIKey | None:
    return api_key_list(tenant=tenant).filter(public_id=public_id).first()


def api_key_prefix(raw: str) -> str | None:
    """The prefix of a well-formed key, else None."""
    match = KEY_PATTERN.match(raw)
    return match.group(1) if match else None


def api_key_for_secret(raw: str) -> APIKey | None:
    """The key whose prefix and secret ``raw`` carries (live or not: the caller decides), with
    its creator and tenant; None for a malformed key, an unknown prefix or a wrong secret. The
    secret is compared in constant time."""
    match = KEY_PATTERN.match(raw)
    if match is None:
        return None
    prefix, secret = match.groups()
    key = APIKey.objects.select_related("created_by", "tenant").filter(prefix=prefix).first()
    if key is None or not hmac.compare_digest(key.secret_sha256, secret_digest(secret)):
        return None
    return key


def api_keys_for(*, viewer: User) -> QuerySet[APIKey]:
    """Keys an operator may see in the admin: those of the tenants on whose host it may manage
    API keys through the API (``manage_api_keys``)."""
    tenants = tenant_list_reached_by(viewer=viewer, capability=Capability.MANAGE_API_KEYS)
    return APIKey.objects.filter(tenant__in=tenants).select_related("tenant", "created_by")
