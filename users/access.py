"""The host check: may this user act on the host this request came to? One place, used by
authentication (tokens, sessions, login) and by the default DRF permission."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.models import GRANTABLE_ACTIONS
from core.selectors import active_grants_for, is_platform, tenant_has_demo_accounts
from users.roles import Access, Role, host_access, platform_capabilities, role_capabilities


def access_on_host(user: Any, tenant: Any) -> Access:
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


def _role_capabilities(user: Any, tenant: Any, access: Access) -> frozenset[str]:
    if access is Access.NONE:
        return frozenset()
    if is_platform(tenant):
        return platform_capabilities(role=user.role)
    return role_capabilities(role=user.role, access=access)


def role_capabilities_on_host(user: Any, tenant: Any) -> frozenset[str]:
    """What ``user``'s role alone lets it do on this host: the platform console's capabilities on
    the platform host, the tenant capabilities of its role (within its scope) on a tenant host."""
    return _role_capabilities(user, tenant, access_on_host(user, tenant))


def capabilities_on_host(user: Any, tenant: Any) -> frozenset[str]:
    """What ``user`` may do on this host: its role's capabilities, plus, on a tenant host it
    already reaches, the actions of its active permission grants (for this tenant or all).
    Expiry is read at each call, so a grant stops working the instant it expires."""
    access = access_on_host(user, tenant)
    capabilities = _role_capabilities(user, tenant, access)
    if access is Access.NONE or is_platform(tenant):
        return capabilities
    return capabilities | {g.action for g in active_grants_for(user=user, tenant=tenant)}


@dataclass(frozen=True)
class CapabilityCheck:
    allowed: bool
    grant: Any = None  # the active PermissionGrant it rests on, when the role alone lacks it


def capability_on_host(user: Any, tenant: Any, capability: str) -> CapabilityCheck:
    """``capabilities_on_host`` for one capability, saying whether a grant made the difference
    (so its use can be audited)."""
    access = access_on_host(user, tenant)
    if capability in _role_capabilities(user, tenant, access):
        return CapabilityCheck(allowed=True)
    if access is Access.NONE or is_platform(tenant) or capability not in GRANTABLE_ACTIONS:
        return CapabilityCheck(allowed=False)
    grant = (
        active_grants_for(user=user, tenant=tenant)
        .filter(action=capability)
        .select_related("grantor")
        .first()
    )
    return CapabilityCheck(allowed=grant is not None, grant=grant)
