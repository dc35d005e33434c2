"""Permission grants (SPEC §2.5): writes. A grant lets its grantee do one more thing for a
while; ``users.access.capabilities_on_host`` reads the active ones at every decision."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from core import clock
from core.audit import security_event
from core.exceptions import DomainError, PermissionDenied
from core.models import GRANTABLE_ACTIONS, PermissionGrant, Tenant
from users.access import access_on_host, grantor_holds, may_receive
from users.roles import Access

MIN_MINUTES = 1


@transaction.atomic
def grant_create(
    *,
    grantor: Any,
    grantee: Any,
    action: str,
    reason: str,
    duration_minutes: int = 30,
    tenant: Tenant | None = None,
    request: Any = None,
) -> PermissionGrant:
    """Grant ``grantee`` the ``action`` for ``duration_minutes`` (on ``tenant`` only, if given)."""
    reason = (reason or "").strip()
    max_minutes = settings.PERMISSION_GRANT_MAX_MINUTES
    if action not in GRANTABLE_ACTIONS:
        raise DomainError(
            f"'{action}' cannot be granted; grantable: {', '.join(sorted(GRANTABLE_ACTIONS))}.",
            fields={"action": ["Not grantable."]},
        )
    if not reason:
        raise DomainError("A grant needs a reason.", fields={"reason": ["Required."]})
    if isinstance(duration_minutes, bool) or not isinstance(duration_minutes, int):
        raise DomainError(
            "The duration is a whole number of minutes.",
            fields={"duration_minutes": ["Whole minutes."]},
        )
    if not MIN_MINUTES <= duration_minutes <= max_minutes:
        raise DomainError(
            f"A grant lasts from {MIN_MINUTES} to {max_minutes} minutes.",
            fields={"duration_minutes": [f"Between {MIN_MINUTES} and {max_minutes}."]},
        )
    if grantor.pk == grantee.pk:
        raise PermissionDenied("Nobody can grant themselves a permission.", code="self_grant")
    if not grantor.is_active or not grantee.is_active:
        raise PermissionDenied("Grants are made by and to active users only.")
    if not grantor_holds(grantor, action, tenant):
        raise PermissionDenied(
            f"You cannot grant '{action}'{' on every tenant' if tenant is None else ''}: "
            "you do not hold it yourself.",
            code="grantor_lacks_action",
        )
    if not may_receive(grantee.role, action):
        roles = ", ".join(sorted(GRANTABLE_ACTIONS[action].grantee_roles))
        raise DomainError(
            f"'{action}' cannot be granted to a {grantee.role}; it goes to: {roles}.",
            code="grantee_role_not_eligible",
            fields={"grantee": [f"A {grantee.role} cannot receive '{action}'."]},
        )
    if tenant is not None and access_on_host(grantee, tenant) is Access.NONE:
        # Grants add capabilities where the grantee already works; they never open a host.
        raise DomainError(
            f"{grantee.email} cannot reach {tenant.name}; a grant would not change that.",
            fields={"grantee": ["Out of this tenant's reach."]},
        )
    now = clock.now()
    grant = PermissionGrant.objects.create(
        grantor=grantor,
        grantee=grantee,
        action=action,
        tenant=tenant,
        reason=reason,
        created_at=now,
        expires_at=now + timedelta(minutes=duration_minutes),
    )
    security_event(
        "grant_created",
        request=request,
        actor=grantor,
        target=grantee,
        subject=grant,
        tenant=tenant,
        action=action,
        grant_tenant=tenant.schema_name if tenant else None,
        expires_at=grant.expires_at.isoformat(),
        reason=reason,
    )
    return grant


@transaction.atomic
def grants_revoke(
    *, grants: QuerySet[PermissionGrant], revoked_by: Any, reason: str = "", request: Any = None
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
