"""The host check and the capability check: may this user act on the host this request came to,
and may it do this one thing there? One place, used by authentication (tokens, sessions, login),
by the default DRF permission and by every capability permission.

Three rules beyond the role table (users.roles) live here, because every decision passes here:

* A permission grant counts only while it is *backed*: its grantor still holds the action itself
  (by role, as when it granted it) and its grantee's role may still receive it.
* While a user is being masqueraded, the capabilities that create or change identities and
  credentials, or reach money, need the real person (the operator) to hold them on this host
  too, by role or by an active grant of its own.
* A grant adds capabilities on hosts its grantee already reaches; it never opens a host.
* A request made with an API key (``apikeys``) holds at most the capabilities of the key's
  scopes: the user object it authenticated carries them (``CREDENTIAL_CAPABILITIES_ATTR``), and
  every answer here is narrowed to them, so a key never exceeds its creator nor its scopes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from access.models import PermissionGrant
from access.policy import (
    CREDENTIAL_CAPABILITIES_ATTR,
    GRANTABLE_ACTIONS,
    MASQUERADE_GUARDED_CAPABILITIES,
    grant_is_backed,
)
from access.selectors import active_grants_for
from tenancy.models import Tenant
from tenancy.selectors import is_platform
from users.reach import access_on_host, role_capabilities_with_access
from users.roles import Access, Capability


def _backed_grants(
    user: Any, tenant: Tenant, capability: Capability | None = None
) -> list[PermissionGrant]:
    grants = active_grants_for(user=user, tenant=tenant).select_related("grantor", "tenant")
    if capability is not None:
        grants = grants.filter(action=capability)
    return [grant for grant in grants if grant_is_backed(grant, grantee=user)]


@dataclass(frozen=True)
class CapabilityCheck:
    allowed: bool
    # The active grant it rests on, when the role alone lacks it.
    grant: PermissionGrant | None = None
    refused_in_masquerade: bool = False  # the user holds it; the masquerading operator does not


def credential_limit(user: Any) -> frozenset[Capability] | None:
    """The capabilities the request's credential lends at most (an API key's scopes), or None
    when the credential lends all of its user's."""
    return getattr(user, CREDENTIAL_CAPABILITIES_ATTR, None)


def _capability(user: Any, tenant: Tenant, capability: Capability) -> CapabilityCheck:
    limit = credential_limit(user)
    if limit is not None and capability not in limit:
        return CapabilityCheck(allowed=False)
    access = access_on_host(user, tenant)
    if capability in role_capabilities_with_access(user, tenant, access):
        return CapabilityCheck(allowed=True)
    if access is Access.NONE or is_platform(tenant) or capability not in GRANTABLE_ACTIONS:
        return CapabilityCheck(allowed=False)
    grants = _backed_grants(user, tenant, capability)
    return CapabilityCheck(allowed=bool(grants), grant=grants[0] if grants else None)


def capability_on_host(
    user: Any, tenant: Tenant, capability: Capability, *, operator: Any = None
) -> CapabilityCheck:
    """May ``user`` use ``capability`` on this host: by its role, or by a backed, active grant
    (which the result names, so its use can be audited). ``operator`` is the real person when
    ``user`` is being masqueraded: guarded capabilities then need the operator to hold them on
    this host as well. Expiry and backing are read at each call."""
    check = _capability(user, tenant, capability)
    if not check.allowed or operator is None or capability not in MASQUERADE_GUARDED_CAPABILITIES:
        return check
    own = _capability(operator, tenant, capability)
    if own.allowed:
        return CapabilityCheck(allowed=True, grant=own.grant)
    return CapabilityCheck(allowed=False, refused_in_masquerade=True)


def capabilities_on_host(
    user: Any, tenant: Tenant, *, operator: Any = None
) -> frozenset[Capability]:
    """Everything ``capability_on_host`` allows ``user`` on this host."""
    access = access_on_host(user, tenant)
    capabilities = role_capabilities_with_access(user, tenant, access)
    if access is not Access.NONE and not is_platform(tenant):
        capabilities |= {Capability(grant.action) for grant in _backed_grants(user, tenant)}
    if (limit := credential_limit(user)) is not None:
        capabilities &= limit
    if operator is None:
        return capabilities
    guarded = capabilities & MASQUERADE_GUARDED_CAPABILITIES
    return (capabilities - guarded) | (guarded & capabilities_on_host(operator, tenant))
