"""Reads of platform records."""

from __future__ import annotations

import copy
import time
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django_tenants.utils import tenant_context

from core import clock
from core.exceptions import NotFound
from core.models import GRANTABLE_ACTIONS, Domain, MasqueradeSession, PermissionGrant, Tenant
from users.roles import Access, host_access, platform_capabilities, role_capabilities


def platform_tenant() -> Tenant:
    """The platform itself, as django-tenants wants a tenant: the public schema, never saved."""
    return Tenant(schema_name=settings.PUBLIC_SCHEMA_NAME, name="Smooth Schedule platform")


def is_platform(tenant: Tenant | None) -> bool:
    return tenant is None or tenant.schema_name == settings.PUBLIC_SCHEMA_NAME


# Host -> Domain (with its tenant), kept per process for TENANT_ROUTE_CACHE_SECONDS. Saving or
# deleting any Domain or Tenant clears it here (core.signals); other processes see a change within
# the TTL at the latest. Unknown hosts are remembered too, so a flood of random Host headers costs
# one query per host and TTL; the map is bounded.
_routes: dict[str, tuple[float, Domain | None]] = {}
_ROUTES_MAX = 10_000


def domain_for_host(hostname: str) -> Domain | None:
    ttl = settings.TENANT_ROUTE_CACHE_SECONDS
    now = time.monotonic()
    cached = _routes.get(hostname)
    if cached is not None and cached[0] > now:
        domain = cached[1]
    else:
        domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
        if ttl > 0:
            if len(_routes) >= _ROUTES_MAX:
                _routes.clear()
            _routes[hostname] = (now + ttl, domain)
    if domain is None:
        return None
    # Each request gets its own instances: the middleware annotates the tenant it routes to.
    fresh = copy.copy(domain)
    fresh.tenant = copy.copy(domain.tenant)
    return fresh


def routes_forget() -> None:
    _routes.clear()


def tenant_has_demo_accounts(tenant: Tenant) -> bool:
    return tenant.users.filter(is_temporary=True).exists()


def tenant_primary_host(tenant: Tenant) -> str | None:
    domain = tenant.domains.filter(is_primary=True).first()
    return domain.domain if domain else None


def domain_list_for_tenant(*, tenant: Tenant) -> QuerySet[Domain]:
    return Domain.objects.filter(tenant=tenant).order_by("-is_primary", "domain")


def domain_get_for_tenant(*, tenant: Tenant, name: str) -> Domain:
    """The only way to load a tenant's domain by name for a request: another tenant's is 404."""
    domain = domain_list_for_tenant(tenant=tenant).filter(domain=name.strip().lower()).first()
    if domain is None:
        raise NotFound(f"This business has no domain '{name}'.")
    return domain


def tenant_logo_url(tenant: Tenant) -> str | None:
    """A short-lived URL of the tenant's logo, whichever host asks (files live in its prefix)."""
    if not tenant.logo:
        return None
    with tenant_context(tenant):
        return tenant.logo.url


def active_grants_of(*, user: object) -> QuerySet[PermissionGrant]:
    """``user``'s grants in force right now, whichever tenant they apply to."""
    if getattr(user, "pk", None) is None:
        return PermissionGrant.objects.none()
    return PermissionGrant.objects.active(clock.now()).filter(grantee_id=user.pk)


def active_grants_for(*, user: object, tenant: Tenant) -> QuerySet[PermissionGrant]:
    """``user``'s grants in force right now that apply on ``tenant``'s host."""
    return active_grants_of(user=user).filter(Q(tenant__isnull=True) | Q(tenant_id=tenant.pk))


def _reach(viewer: Any) -> list[tuple[QuerySet[Tenant], Access]]:
    """``users.roles.host_access`` for every tenant at once: the tenants ``viewer`` reaches, in
    groups that share one access level (an inactive user reaches none)."""
    tenants = Tenant.objects.all()
    if not getattr(viewer, "is_active", False) or getattr(viewer, "pk", None) is None:
        return []
    if viewer.tenant_id is not None:
        tenant_id = viewer.tenant_id
        own = host_access(
            role=viewer.role, user_tenant_id=tenant_id, host_tenant_id=tenant_id, host_is_demo=False
        )
        return [(tenants.filter(pk=tenant_id), own)]
    # A platform user's reach depends only on whether the tenant holds demo accounts.
    demo_ids = Tenant.objects.filter(users__is_temporary=True).values("pk")
    groups = [(True, tenants.filter(pk__in=demo_ids)), (False, tenants.exclude(pk__in=demo_ids))]
    return [
        (
            group,
            host_access(
                role=viewer.role, user_tenant_id=None, host_tenant_id=-1, host_is_demo=demo
            ),
        )
        for demo, group in groups
    ]


def tenant_list_reached_by(*, viewer: Any, capability: str | None = None) -> QuerySet[Tenant]:
    """The tenants whose host ``viewer`` reaches; given ``capability``, those on whose host it
    holds it by its role or an active grant (``users.access.capability_on_host`` for every
    tenant at once)."""
    grants = active_grants_of(user=viewer).filter(action=capability)
    grantable = capability in GRANTABLE_ACTIONS
    scope = Q(pk__in=[])
    for group, access in _reach(viewer):
        if access is Access.NONE:
            continue
        by_role = capability is None or capability in role_capabilities(
            role=viewer.role, access=access
        )
        if by_role or (grantable and grants.filter(tenant__isnull=True).exists()):
            scope |= Q(pk__in=group.values("pk"))
        elif grantable:
            scope |= Q(pk__in=group.filter(pk__in=grants.values("tenant_id")).values("pk"))
    return Tenant.objects.filter(scope).order_by("name")


def domain_list_for(*, viewer: Any) -> QuerySet[Domain]:
    """Domains ``viewer`` may see: those of the tenants whose domains API it may use (the
    ``manage_settings`` capability on that tenant's host)."""
    tenants = tenant_list_reached_by(viewer=viewer, capability="manage_settings")
    return Domain.objects.filter(tenant__in=tenants).select_related("tenant").order_by("domain")


def oversees_operators(viewer: Any) -> bool:
    """Whether ``viewer`` sees every grant and every masquerade (those who manage users:
    SUPERUSER and PLATFORM_MANAGER); other people see those they took part in."""
    return getattr(viewer, "is_active", False) and "manage_users" in platform_capabilities(
        role=getattr(viewer, "role", "")
    )


def grant_list_for(*, viewer: Any) -> QuerySet[PermissionGrant]:
    """Grants ``viewer`` may see: all of them, or those it gave or holds."""
    grants = PermissionGrant.objects.select_related("grantor", "grantee", "tenant", "revoked_by")
    if oversees_operators(viewer):
        return grants
    return grants.filter(Q(grantor_id=viewer.pk) | Q(grantee_id=viewer.pk))


def masquerade_list_for(*, viewer: Any) -> QuerySet[MasqueradeSession]:
    """Masquerades ``viewer`` may know of: all of them, or those it started or was the target of."""
    records = MasqueradeSession.objects.select_related("hijacker", "hijacked", "tenant")
    if oversees_operators(viewer):
        return records
    return records.filter(Q(hijacker_id=viewer.pk) | Q(hijacked_id=viewer.pk))
