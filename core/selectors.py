"""Reads of platform records."""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet

from core import clock
from core.models import Domain, PermissionGrant, Tenant


def platform_tenant() -> Tenant:
    """The platform itself, as django-tenants wants a tenant: the public schema, never saved."""
    return Tenant(schema_name=settings.PUBLIC_SCHEMA_NAME, name="Smooth Schedule platform")


def is_platform(tenant: Tenant | None) -> bool:
    return tenant is None or tenant.schema_name == settings.PUBLIC_SCHEMA_NAME


def domain_for_host(hostname: str) -> Domain | None:
    return Domain.objects.select_related("tenant").filter(domain=hostname).first()


def tenant_list() -> QuerySet[Tenant]:
    return Tenant.objects.prefetch_related("domains").order_by("name")


def tenant_get(*, public_id: str) -> Tenant | None:
    return tenant_list().filter(public_id=public_id).first()


def tenant_has_demo_accounts(tenant: Tenant) -> bool:
    return tenant.users.filter(is_temporary=True).exists()


def tenant_primary_host(tenant: Tenant) -> str | None:
    domain = tenant.domains.filter(is_primary=True).first()
    return domain.domain if domain else None


def active_grants_for(*, user: object, tenant: Tenant) -> QuerySet[PermissionGrant]:
    """``user``'s grants in force right now that apply on ``tenant``'s host."""
    from django.db.models import Q

    if getattr(user, "pk", None) is None:
        return PermissionGrant.objects.none()
    return PermissionGrant.objects.active(clock.now()).filter(
        Q(tenant__isnull=True) | Q(tenant_id=tenant.pk), grantee_id=user.pk
    )
