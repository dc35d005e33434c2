"""Where a user's role reaches: which hosts, read or write, and what its role alone lets it do
there. The one reading of the role table (users.roles) for a host; grants come on top of it
(access.capabilities)."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser

from tenancy.models import Tenant
from tenancy.selectors import is_platform, tenant_has_demo_accounts
from users.models import User
from users.roles import (
    Access,
    Capability,
    Role,
    host_access,
    platform_capabilities,
    role_capabilities,
)


def access_on_host(user: User | AnonymousUser | None, tenant: Tenant) -> Access:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Access.NONE
    on_platform = is_platform(tenant)
    return host_access(
        role=user.role,
        user_tenant_id=user.tenant_id,
        host_tenant_id=None if on_platform else tenant.pk,
        # Only PLATFORM_SALES's reach depends on it: spare everyone else the query.
        host_is_demo=(
            not on_platform
            and user.role == Role.PLATFORM_SALES
            and tenant_has_demo_accounts(tenant)
        ),
    )


def role_capabilities_with_access(
    user: User | AnonymousUser | None, tenant: Tenant, access: Access
) -> frozenset[Capability]:
    if access is Access.NONE or not isinstance(user, User):
        return frozenset()
    if is_platform(tenant):
        return platform_capabilities(role=user.role)
    return role_capabilities(role=user.role, access=access)


def role_capabilities_on_host(
    user: User | AnonymousUser | None, tenant: Tenant
) -> frozenset[Capability]:
    """What ``user``'s role alone lets it do on this host: the platform console's capabilities on
    the platform host, the tenant capabilities of its role (within its scope) on a tenant host."""
    return role_capabilities_with_access(user, tenant, access_on_host(user, tenant))
