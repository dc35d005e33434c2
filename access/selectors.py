"""Reads of who may reach what: grants in force, the tenants a viewer reaches (by role or by
a backed grant), and the operators' records (grants, masquerades, audit events) a viewer sees."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet

from access.models import MasqueradeSession, PermissionGrant
from access.policy import GRANTABLE_ACTIONS, grant_is_backed
from core import clock
from core.models import AuditEvent
from tenancy.models import Domain, Tenant
from tenancy.selectors import demo_tenant_ids
from users.models import User
from users.roles import (
    PLATFORM_ROLES,
    Access,
    Capability,
    Role,
    host_access,
    platform_capabilities,
    role_capabilities,
)


def active_grants_of(*, user: object) -> QuerySet[PermissionGrant]:
    """``user``'s grants in force right now, whichever tenant they apply to (none for anyone
    not signed in)."""
    user_id = getattr(user, "pk", None)
    if user_id is None:
        return PermissionGrant.objects.none()
    return PermissionGrant.objects.active(clock.now()).filter(grantee_id=user_id)


def active_grants_for(*, user: object, tenant: Tenant) -> QuerySet[PermissionGrant]:
    """``user``'s grants in force right now that apply on ``tenant``'s host."""
    return active_grants_of(user=user).filter(Q(tenant__isnull=True) | Q(tenant_id=tenant.pk))


def _reach(viewer: User | AnonymousUser) -> list[tuple[QuerySet[Tenant], Access]]:
    """``users.roles.host_access`` for every tenant at once: the tenants ``viewer`` reaches, in
    groups that share one access level (an inactive user reaches none)."""
    tenants = Tenant.objects.all()
    if not isinstance(viewer, User) or not viewer.is_active:
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


def _backed_grant_tenants(
    viewer: User | AnonymousUser, capability: Capability
) -> tuple[bool, set[int]]:
    """Where ``viewer``'s active grants of ``capability`` count: (on every tenant, on these
    tenants). Only backed grants count, by the one rule of ``access.policy.grant_is_backed``."""
    if not isinstance(viewer, User):
        return False, set()
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


def tenant_list_reached_by(
    *, viewer: User | AnonymousUser, capability: Capability | None = None
) -> QuerySet[Tenant]:
    """The tenants whose host ``viewer`` reaches; given ``capability``, those on whose host it
    holds it by its role or an active, backed grant (``access.capabilities.capability_on_host`` for
    every tenant at once)."""
    if not isinstance(viewer, User):
        return Tenant.objects.none()
    everywhere, granted_on = (
        _backed_grant_tenants(viewer, capability)
        if capability is not None and capability in GRANTABLE_ACTIONS
        else (False, set())
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


def domain_list_for(*, viewer: User | AnonymousUser) -> QuerySet[Domain]:
    """Domains ``viewer`` may see: those of the tenants whose domains API it may use (the
    ``manage_settings`` capability on that tenant's host)."""
    tenants = tenant_list_reached_by(viewer=viewer, capability=Capability.MANAGE_SETTINGS)
    return Domain.objects.filter(tenant__in=tenants).select_related("tenant").order_by("domain")


def oversees_operators(viewer: User | AnonymousUser) -> bool:
    """Whether ``viewer`` sees every grant and every masquerade (those who manage users:
    SUPERUSER and PLATFORM_MANAGER); other people see those they took part in."""
    return getattr(viewer, "is_active", False) and Capability.MANAGE_USERS in platform_capabilities(
        role=getattr(viewer, "role", "")
    )


def grant_list_for(*, viewer: User | AnonymousUser) -> QuerySet[PermissionGrant]:
    """Grants ``viewer`` may see: all of them, or those it gave or holds."""
    grants = PermissionGrant.objects.select_related("grantor", "grantee", "tenant", "revoked_by")
    if oversees_operators(viewer):
        return grants
    return grants.filter(Q(grantor_id=viewer.pk) | Q(grantee_id=viewer.pk))


def masquerade_list_for(*, viewer: User | AnonymousUser) -> QuerySet[MasqueradeSession]:
    """Masquerades ``viewer`` may know of: all of them, or those it started or was the target of."""
    records = MasqueradeSession.objects.select_related("hijacker", "hijacked", "tenant")
    if oversees_operators(viewer):
        return records
    return records.filter(Q(hijacker_id=viewer.pk) | Q(hijacked_id=viewer.pk))


def audit_events_for(*, viewer: User | AnonymousUser) -> QuerySet[AuditEvent]:
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


def tenant_list_for(*, viewer: User | AnonymousUser) -> QuerySet[Tenant]:
    """The tenants ``viewer`` reaches (PLATFORM_SALES: those holding demo accounts)."""
    return tenant_list_reached_by(viewer=viewer).prefetch_related("domains")
