"""Permission grants (SPEC §2.5): writes. A grant lets its grantee do one more thing for a
while; ``access.capabilities.capabilities_on_host`` reads the active ones at every decision."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest

from access.models import PermissionGrant, PermissionGrantQuerySet
from core import clock
from core.audit import security_event
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


@transaction.atomic
def grants_revoke(
    *, grants: PermissionGrantQuerySet, revoked_by: User, reason: str = "", request: Any = None
) -> int:
    """Revoke every grant of ``grants`` still in force; return how many were revoked."""
    now = clock.now()
    live = list(
        grants.active(now).select_for_update(of=("self",)).select_related("grantee", "tenant")
    )
    for grant in live:
        grant.revoked_at, grant.revoked_by, grant.revoke_reason = now, revoked_by, reason
        grant.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
        security_event(
            "grant_revoked",
            request=request,
            actor=revoked_by,
            target=grant.grantee,
            subject=grant,
            tenant=grant.tenant,
            action=grant.action,
            grant_tenant=grant.tenant.schema_name if grant.tenant else None,
            reason=reason,
        )
    return len(live)
