"""Permission grants (SPEC §2.5): writes. A grant lets its grantee do one more thing for a
while; ``access.capabilities.capabilities_on_host`` reads the active ones at every decision."""

from __future__ import annotations

from django.http import HttpRequest

from access.models import PermissionGrant, PermissionGrantQuerySet
from tenancy.models import Tenant
from users.models import User


def grant_create(
    *,
    grantor: User,
    grantee: User,
    action: str,
    reason: str,
    duration_minutes: int = 30,
    tenant: Tenant | None = None,
    request: HttpRequest | None = None,
) -> PermissionGrant:
    """Grant ``grantee`` the ``action`` for ``duration_minutes`` (on ``tenant`` only, if given).
    The record carries the write (``PermissionGrant.create_grant``, the seed's entry point); the
    rules are ``access.policy.grant_terms_check``."""
    return PermissionGrant.create_grant(
        grantor=grantor,
        grantee=grantee,
        action=action,
        reason=reason,
        duration_minutes=duration_minutes,
        tenant=tenant,
        request=request,
    )


def grants_revoke(
    *,
    grants: PermissionGrantQuerySet,
    revoked_by: User,
    reason: str = "",
    request: HttpRequest | None = None,
) -> int:
    """Revoke every grant of ``grants`` still in force; return how many were revoked."""
    return grants.revoke(revoked_by=revoked_by, reason=reason, request=request)
