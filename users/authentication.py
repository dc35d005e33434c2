"""Authentication bound to the host: a credential issued on tenant A's host is worthless on B's.

JWTs carry the schema of the host they were issued on (claim ``tenant``). A token is accepted on
the host it names; a platform-host token of a platform role is also accepted on tenant hosts
within that role's scope. Sessions record the schema they were opened on in the same way.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication
from rest_framework_simplejwt.authentication import JWTAuthentication

from core.audit import security_event
from users.reach import access_on_host
from users.roles import Access

TENANT_CLAIM = "tenant"
SESSION_SCHEMA_KEY = "_auth_schema"


def credential_fits_host(*, user: Any, issued_on: str | None, request: Any) -> bool:
    """Whether a credential issued on schema ``issued_on`` may act for ``user`` on this host."""
    tenant = request.tenant
    if access_on_host(user, tenant) is Access.NONE:
        return False
    if issued_on == tenant.schema_name:
        return True
    return issued_on == settings.PUBLIC_SCHEMA_NAME and user.is_platform_user


def _refuse(request: Any, user: Any, kind: str, issued_on: str | None) -> None:
    security_event(
        "credential_refused_on_host",
        request=request,
        actor=user,
        credential=kind,
        issued_on=issued_on,
    )
    raise exceptions.AuthenticationFailed(
        "These credentials are not valid on this host.", code="wrong_host"
    )


class TenantJWTAuthentication(JWTAuthentication):
    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        result = super().authenticate(request)
        if result is None:
            return None
        user, token = result
        issued_on = token.get(TENANT_CLAIM)
        if not credential_fits_host(user=user, issued_on=issued_on, request=request):
            _refuse(request, user, "jwt", issued_on)
        return user, token


class TenantSessionAuthentication(SessionAuthentication):
    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        result = super().authenticate(request)
        if result is None:
            return None
        user, auth = result
        issued_on = request._request.session.get(SESSION_SCHEMA_KEY)
        if not credential_fits_host(user=user, issued_on=issued_on, request=request):
            _refuse(request, user, "session", issued_on)
        return user, auth

    def authenticate_header(self, request: Any) -> str:
        # Makes DRF answer 401 (not 403) to unauthenticated API calls.
        return 'Bearer realm="api"'
