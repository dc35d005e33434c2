"""Reads of platform records."""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS
from django.db.models import Q, QuerySet
from django_tenants.utils import tenant_context

from core import clock
from core.exceptions import NotFound
from core.models import (
    GRANTABLE_ACTIONS,
    AuditEvent,
    Domain,
    MasqueradeSession,
    PermissionGrant,
    Tenant,
)
from users.roles import (
    PLATFORM_ROLES,
    Access,
    Role,
    host_access,
    platform_capabilities,
    role_capabilities,
)

T = TypeVar("T")


def platform_tenant() -> Tenant:
    """The platform itself, as django-tenants wants a tenant: the public schema, never saved."""
    return Tenant(schema_name=settings.PUBLIC_SCHEMA_NAME, name="Smooth Schedule platform")


def is_platform(tenant: Tenant | None) -> bool:
    return tenant is None or tenant.schema_name == settings.PUBLIC_SCHEMA_NAME


# Host routes live in Django's cache (Redis in production: shared by every worker), so
# thousands of active hosts stay cached for TENANT_ROUTE_CACHE_SECONDS wherever their requests
# land. A change must reach every worker's next request, so an entry counts only while it carries
# the current version of its host and the current generation of all routes: saving or deleting a
# Tenant or Domain gives its hosts new versions (core.signals, now and again on commit), and
# ``routes_forget()`` starts a new generation. A reader takes both stamps in the same round trip
# as the entry, before reading the database, so an entry built from a row a writer was changing
# carries a stamp that writer's commit has already replaced. Unknown hosts are cached the same
# way. Stamps outlive entries by far (a missing stamp reads as "", which a change replaces), and
# when the cache fails, routing reads the database and leaves the cache alone for a moment.
_ROUTE_FIELDS = tuple(f.attname for f in Domain._meta.concrete_fields)
_TENANT_FIELDS = tuple(f.attname for f in Tenant._meta.concrete_fields)
# Entries from a process with other model fields are never taken for this one's.
_ROUTE_SHAPE = hashlib.sha256(repr((_ROUTE_FIELDS, _TENANT_FIELDS)).encode()).hexdigest()[:12]
_GENERATION_KEY = "tenant-route:generation"
_STAMP_SECONDS = 30 * 24 * 3600
_CACHE_BACKOFF_SECONDS = 5.0
_cache_unusable_until = 0.0

logger = logging.getLogger(__name__)


def _host_keys(hostname: str) -> tuple[str, str]:
    digest = hashlib.sha256(hostname.encode()).hexdigest()
    return f"tenant-route:version:{digest}", f"tenant-route:{_ROUTE_SHAPE}:{digest}"


def _route_row(hostname: str) -> tuple | None:
    return (
        Domain.objects.filter(domain=hostname)
        .values_list(*_ROUTE_FIELDS, *(f"tenant__{name}" for name in _TENANT_FIELDS))
        .first()
    )


def _cache_call(action: Callable[[], T]) -> T | None:
    """Run a route-cache operation; on failure note it, stop using the cache for a moment and
    return None (routing then reads the database)."""
    global _cache_unusable_until
    if time.monotonic() < _cache_unusable_until:
        return None
    try:
        return action()
    except Exception as error:  # any backend's failure means the same: go to the database
        _cache_unusable_until = time.monotonic() + _CACHE_BACKOFF_SECONDS
        logger.warning(
            "route cache unavailable (%s: %s); routing reads the database for %ss",
            type(error).__name__, error, _CACHE_BACKOFF_SECONDS,
        )  # fmt: skip
        return None


def domain_for_host(hostname: str) -> Domain | None:
    """The Domain row (with its tenant) that ``hostname`` routes to, None for an unknown host.
    Each call returns new instances: the middleware annotates the tenant it routes to."""
    ttl = settings.TENANT_ROUTE_CACHE_SECONDS
    if ttl <= 0:
        return _route_instances(_route_row(hostname))
    version_key, entry_key = _host_keys(hostname)
    found = _cache_call(lambda: cache.get_many([_GENERATION_KEY, version_key, entry_key]))
    if found is None:
        return _route_instances(_route_row(hostname))
    stamp = (found.get(_GENERATION_KEY, ""), found.get(version_key, ""))
    entry = found.get(entry_key)
    if entry is not None and entry[0] == stamp:
        return _route_instances(entry[1])
    row = _route_row(hostname)
    _cache_call(lambda: cache.set(entry_key, (stamp, row), ttl))
    return _route_instances(row)


def _route_instances(row: tuple | None) -> Domain | None:
    if row is None:
        return None
    split = len(_ROUTE_FIELDS)
    domain = Domain.from_db(DEFAULT_DB_ALIAS, _ROUTE_FIELDS, row[:split])
    domain.tenant = Tenant.from_db(DEFAULT_DB_ALIAS, _TENANT_FIELDS, row[split:])
    return domain


def routes_changed(hosts: Iterable[str]) -> None:
    """Every worker's next request to one of ``hosts`` reads its route afresh."""
    versions = {_host_keys(host)[0]: uuid.uuid4().hex for host in set(hosts)}
    if versions:
        _cache_call(lambda: cache.set_many(versions, timeout=_STAMP_SECONDS))


def routes_forget() -> None:
    """Every worker's next request to any host reads its route afresh."""
    _cache_call(lambda: cache.set(_GENERATION_KEY, uuid.uuid4().hex, timeout=_STAMP_SECONDS))


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


def demo_tenant_ids() -> QuerySet[Tenant]:
    """The tenants holding demo accounts (``is_temporary`` users), as a subquery of their ids:
    PLATFORM_SALES's world (``tenant_has_demo_accounts`` for one tenant)."""
    return Tenant.objects.filter(users__is_temporary=True).values("pk")


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
    demo_ids = demo_tenant_ids()
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


def _backed_grant_tenants(viewer: Any, capability: str) -> tuple[bool, set[int]]:
    """Where ``viewer``'s active grants of ``capability`` count: (on every tenant, on these
    tenants). Only backed grants count, by the one rule of ``users.access.grant_is_backed``."""
    from users.access import grant_is_backed  # users.access imports this module

    grants = active_grants_of(user=viewer).filter(action=capability)
    backed = [
        grant
        for grant in grants.select_related("grantor", "tenant")
        if grant_is_backed(grant, grantee=viewer)
    ]
    return (
        any(grant.tenant_id is None for grant in backed),
        {grant.tenant_id for grant in backed if grant.tenant_id is not None},
    )


def tenant_list_reached_by(*, viewer: Any, capability: str | None = None) -> QuerySet[Tenant]:
    """The tenants whose host ``viewer`` reaches; given ``capability``, those on whose host it
    holds it by its role or an active, backed grant (``users.access.capability_on_host`` for
    every tenant at once)."""
    grantable = capability in GRANTABLE_ACTIONS
    everywhere, granted_on = (
        _backed_grant_tenants(viewer, capability) if grantable else (False, set())
    )
    scope = Q(pk__in=[])
    for group, access in _reach(viewer):
        if access is Access.NONE:
            continue
        by_role = capability is None or capability in role_capabilities(
            role=viewer.role, access=access
        )
        if by_role or everywhere:
            scope |= Q(pk__in=group.values("pk"))
        elif granted_on:
            scope |= Q(pk__in=group.filter(pk__in=granted_on).values("pk"))
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
    return by_tenant_people.filter(
        Q(tenant__in=demo_tenant_ids()) | Q(actor__is_temporary=True) | Q(target__is_temporary=True)
    )


def tenants_due_for_deletion() -> list[int]:
    """Ids of the tenants whose scheduled deletion is due (core.tasks.purge_deleted_tenants)."""
    return list(
        Tenant.objects.filter(deletion_due_at__lte=clock.now())
        .order_by("deletion_due_at", "pk")
        .values_list("pk", flat=True)
    )
