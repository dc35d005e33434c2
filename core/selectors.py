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
from core.models import AuditEvent, Domain, PermissionGrant, Tenant
from users.roles import PLATFORM_ROLES, Role


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


def active_grants_for(*, user: object, tenant: Tenant) -> QuerySet[PermissionGrant]:
    """``user``'s grants in force right now that apply on ``tenant``'s host."""
    if getattr(user, "pk", None) is None:
        return PermissionGrant.objects.none()
    return PermissionGrant.objects.active(clock.now()).filter(
        Q(tenant__isnull=True) | Q(tenant_id=tenant.pk), grantee_id=user.pk
    )


def audit_events_for(*, viewer: Any) -> QuerySet[AuditEvent]:
    """The audit events a platform operator may read. SUPERUSER and PLATFORM_MANAGER: all.
    PLATFORM_SUPPORT: what happened in tenants, not what platform staff did. PLATFORM_SALES: the
    same, limited to demo tenants and demo accounts. Anyone else: none."""
    events = AuditEvent.objects.all()
    role = getattr(viewer, "role", None)
    if role in (Role.SUPERUSER, Role.PLATFORM_MANAGER):
        return events
    if role not in (Role.PLATFORM_SUPPORT, Role.PLATFORM_SALES):
        return events.none()
    by_tenant_people = events.exclude(actor_role__in=sorted(PLATFORM_ROLES))
    if role == Role.PLATFORM_SUPPORT:
        return by_tenant_people.filter(tenant__isnull=False)
    demo_tenants = Tenant.objects.filter(users__is_temporary=True).values("pk")
    return by_tenant_people.filter(
        Q(tenant__in=demo_tenants) | Q(actor__is_temporary=True) | Q(target__is_temporary=True)
    )
