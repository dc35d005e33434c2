"""Reads of tenants and their hosts: routing (with the shared route cache), domains, logos."""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS
from django.db.models import QuerySet
from django_tenants.utils import tenant_context

from core import clock
from core.exceptions import NotFound
from tenancy.models import Domain, Tenant

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
# Tenant or Domain gives its hosts new versions (tenancy.signals, now and again on commit), and
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


def tenants_due_for_deletion() -> list[int]:
    """Ids of the tenants whose scheduled deletion is due (core.tasks.purge_deleted_tenants)."""
    return list(
        Tenant.objects.filter(deletion_due_at__lte=clock.now())
        .order_by("deletion_due_at", "pk")
        .values_list("pk", flat=True)
    )
