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
from functools import cached_property

from django.contrib.auth.models import AnonymousUser

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
from users.models import User
from users.reach import access_on_host, role_capabilities_with_access
from users.roles import Access, Capability


def _backed_grants(user: User | AnonymousUser, tenant: Tenant) -> list[PermissionGrant]:
    if not isinstance(user, User):
        return []
    grants = active_grants_for(user=user, tenant=tenant).select_related("grantor", "tenant")
    return [grant for grant in grants if grant_is_backed(grant, grantee=user)]


@dataclass(frozen=True)
class CapabilityCheck:
    allowed: bool
    # The active grant it rests on, when the role alone lacks it.
    grant: PermissionGrant | None = None
    refused_in_masquerade: bool = False  # the user holds it; the masquerading operator does not


def credential_limit(user: User | AnonymousUser) -> frozenset[Capability] | None:
    """The capabilities the request's credential lends at most (an API key's scopes), or None
    when the credential lends all of its user's."""
    return getattr(user, CREDENTIAL_CAPABILITIES_ATTR, None)


class HostCapabilities:
    """What one user may do on one host, read at most once each: its role's capabilities there,
    its backed, active grants (the newest per action; read only when a check needs one), the
    limit of its credential, and, while it is being masqueraded, the operator's own (guarded
    capabilities need both). Grants' expiry and backing are as they were when first read."""

    def __init__(
        self, user: User | AnonymousUser, tenant: Tenant, *, operator: User | None = None
    ) -> None:
        self._user, self._tenant, self._operator = user, tenant, operator
        self.access = access_on_host(user, tenant)
        self.by_role = role_capabilities_with_access(user, tenant, self.access)
        self.limit = credential_limit(user)

    @cached_property
    def grants(self) -> dict[str, PermissionGrant]:
        if self.access is Access.NONE or is_platform(self._tenant):
            return {}
        grants: dict[str, PermissionGrant] = {}
        for grant in _backed_grants(self._user, self._tenant):  # newest first
            grants.setdefault(grant.action, grant)
        return grants

    @cached_property
    def operator(self) -> HostCapabilities | None:
        return None if self._operator is None else HostCapabilities(self._operator, self._tenant)

    def _own(self, capability: Capability) -> CapabilityCheck:
        if self.limit is not None and capability not in self.limit:
            return CapabilityCheck(allowed=False)
        if capability in self.by_role:
            return CapabilityCheck(allowed=True)
        if capability not in GRANTABLE_ACTIONS:
            return CapabilityCheck(allowed=False)
        grant = self.grants.get(capability)
        return CapabilityCheck(allowed=grant is not None, grant=grant)

    def check(self, capability: Capability) -> CapabilityCheck:
        own = self._own(capability)
        if not own.allowed or capability not in MASQUERADE_GUARDED_CAPABILITIES:
            return own
        if self.operator is None:
            return own
        operators = self.operator._own(capability)
        if operators.allowed:
            return CapabilityCheck(allowed=True, grant=operators.grant)
        return CapabilityCheck(allowed=False, refused_in_masquerade=True)

    @property
    def all(self) -> frozenset[Capability]:
        """Every capability ``check`` allows."""
        held = self.by_role | {Capability(action) for action in self.grants}
        return frozenset(capability for capability in held if self.check(capability).allowed)


def host_capabilities(
    user: User | AnonymousUser, tenant: Tenant, *, operator: User | None = None
) -> HostCapabilities:
    """``user``'s capabilities on ``tenant``'s host (``operator``: the real person while ``user``
    is being masqueraded)."""
    return HostCapabilities(user, tenant, operator=operator)


def capability_on_host(
    user: User | AnonymousUser,
    tenant: Tenant,
    capability: Capability,
    *,
    operator: User | None = None,
) -> CapabilityCheck:
    """May ``user`` use ``capability`` on this host: by its role, or by a backed, active grant
    (which the result names, so its use can be audited). ``operator`` is the real person when
    ``user`` is being masqueraded: guarded capabilities then need the operator to hold them on
    this host as well. A request reads them once (``access.permissions.request_capabilities``)."""
    return host_capabilities(user, tenant, operator=operator).check(capability)


def capabilities_on_host(
    user: User | AnonymousUser, tenant: Tenant, *, operator: User | None = None
) -> frozenset[Capability]:
    """Everything ``capability_on_host`` allows ``user`` on this host."""
    return host_capabilities(user, tenant, operator=operator).all
