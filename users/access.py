"""The host check: may this user act on the host this request came to? One place, used by
authentication (tokens, sessions, login) and by the default DRF permission."""

from __future__ import annotations

from typing import Any

from core.selectors import active_grants_for, is_platform, tenant_has_demo_accounts
from users.roles import Access, host_access, platform_capabilities, role_capabilities


def access_on_host(user: Any, tenant: Any) -> Access:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Access.NONE
    on_platform = is_platform(tenant)
    return host_access(
        role=user.role,
        user_tenant_id=user.tenant_id,
        host_tenant_id=None if on_platform else tenant.pk,
        host_is_demo=(not on_platform) and tenant_has_demo_accounts(tenant),
    )


def role_capabilities_on_host(user: Any, tenant: Any) -> frozenset[str]:
    """What ``user``'s role alone lets it do on this host: the platform console's capabilities on
    the platform host, the tenant capabilities of its role (within its scope) on a tenant host."""
    access = access_on_host(user, tenant)
    if access is Access.NONE:
        return frozenset()
    if is_platform(tenant):
        return platform_capabilities(role=user.role)
    return role_capabilities(role=user.role, access=access)


def capabilities_on_host(user: Any, tenant: Any) -> frozenset[str]:
    """What ``user`` may do on this host: its role's capabilities, plus on a tenant host it
    already reaches the actions of its active permission grants (for this tenant or all).
    Expiry is read at each call, so a grant stops working the instant it expires."""
    capabilities = role_capabilities_on_host(user, tenant)
    if not capabilities and access_on_host(user, tenant) is Access.NONE:
        return capabilities
    if is_platform(tenant):
        return capabilities
    granted = {grant.action for grant in active_grants_for(user=user, tenant=tenant)}
    return capabilities | granted


def grant_behind(user: Any, tenant: Any, capability: str) -> Any:
    """The active grant that gives ``user`` a ``capability`` its role lacks here, if any (so its
    use can be audited)."""
    if capability in role_capabilities_on_host(user, tenant):
        return None
    if is_platform(tenant) or access_on_host(user, tenant) is Access.NONE:
        return None
    return active_grants_for(user=user, tenant=tenant).filter(action=capability).first()
