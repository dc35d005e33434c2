"""``Authorization: Api-Key sk_...`` (or ``Bearer sk_...``): a request made with one of the
business's API keys, as its creator, within the key's scopes.

A key works only on its own tenant's hosts (401 ``wrong_host`` elsewhere, the platform host
included), only while it is live (read from the database on every request, so a revocation
counts at once), only while its creator is active and still reaches the host, and only on
endpoints that check a capability (403 elsewhere). What it may do there is its creator's
capabilities on this host narrowed to its scopes (``access.capabilities``). Each key has its
own rate limit, and the tenant's calls with keys count against its daily quota
(``tenancy.ratelimit``).
"""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request

from access.permissions import checks_a_capability
from access.policy import CREDENTIAL_CAPABILITIES_ATTR
from apikeys.models import APIKey
from apikeys.scopes import scope_capabilities
from apikeys.selectors import api_key_for_secret
from apikeys.services import KEY_PREFIX, api_key_mark_used
from core.audit import security_event
from tenancy import ratelimit
from tenancy.http import request_tenant
from users.models import User
from users.reach import access_on_host
from users.roles import Access

SCHEMES = (b"api-key", b"bearer")


def presented_key(request: Request) -> str | None:
    """The API key in the Authorization header, or None when the header holds something else
    (a JWT is left to its own authentication)."""
    parts = get_authorization_header(request).split()
    if not parts or parts[0].lower() not in SCHEMES:
        return None
    is_key_scheme = parts[0].lower() == b"api-key"
    if len(parts) != 2:
        if is_key_scheme:
            raise exceptions.AuthenticationFailed(
                "Send 'Authorization: Api-Key sk_...'.", code="bad_authorization_header"
            )
        return None
    token = parts[1].decode("latin-1")
    if is_key_scheme or token.startswith(KEY_PREFIX):
        return token
    return None


class APIKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[User, APIKey] | None:
        raw = presented_key(request)
        if raw is None:
            return None
        key = api_key_for_secret(raw)
        if key is None or not key.is_live():
            raise exceptions.AuthenticationFailed(
                "This API key is not valid: unknown, revoked or expired.",
                code="authentication_failed",
            )
        user, tenant = key.created_by, request_tenant(request)
        if not user.is_active:
            raise exceptions.AuthenticationFailed(
                "The account this API key acts for is deactivated.", code="user_inactive"
            )
        if key.tenant_id != tenant.pk or access_on_host(user, tenant) is Access.NONE:
            security_event(
                "credential_refused_on_host", request=request, actor=user, credential="api_key",
                prefix=key.display_prefix, issued_on=key.tenant.schema_name,
            )  # fmt: skip
            raise exceptions.AuthenticationFailed(
                "This API key is not valid on this host.", code="wrong_host"
            )
        view = request.parser_context.get("view") if request.parser_context else None
        if view is None or not checks_a_capability(view):
            raise exceptions.PermissionDenied(
                "API keys cannot be used on this endpoint; sign in instead."
            )
        self._count(request, key)
        api_key_mark_used(key=key)
        writing = request.method not in SAFE_METHODS
        setattr(user, CREDENTIAL_CAPABILITIES_ATTR, scope_capabilities(key.scopes, writing=writing))
        return user, key

    def _count(self, request: Request, key: APIKey) -> None:
        window = ratelimit.api_key_request_window(key.tenant, key.prefix)
        ratelimit.remember(request, window)
        if window is not None and window.exceeded:
            raise ratelimit.throttled(window, f"with API key {key.display_prefix}")
        quota = ratelimit.api_call_quota_window(key.tenant)
        ratelimit.remember(request, quota)
        if quota is not None and quota.exceeded:
            raise ratelimit.quota_exceeded(quota, "API calls per day")

    def authenticate_header(self, request: Request) -> str:
        # The same challenge as the token authentication's, so a 401 reads the same everywhere.
        return 'Bearer realm="api"'
