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

from core.models import GRANTABLE_ACTIONS
from core.selectors import active_grants_for, is_platform, tenant_has_demo_accounts
from users.roles import Access, Role, host_access, platform_capabilities, role_capabilities

# Only these roles hold tenant capabilities on every tenant, so only they may grant one for all.
EVERY_TENANT_GRANTORS = frozenset({Role.SUPERUSER, Role.PLATFORM_MANAGER})

# Set by a credential narrower than its user (an API key) on the user object of the request.
CREDENTIAL_CAPABILITIES_ATTR = "credential_capabilities"

# Who may sign in and as what (users, roles, passwords, e-mails), the secrets that act for the
# business (calendar-feed URLs, plugin keys and webhook secrets) and which plugins may read its
# data, a customer's personal data as a whole (its export, its irreversible erasure), its custom
# domains and settings, and its money. A masquerade lends an operator the user's view, not these.
MASQUERADE_GUARDED_CAPABILITIES = frozenset(
    {
        "manage_staff",
        "handle_personal_data",
        "manage_settings",
        "view_billing",
        "manage_billing",
        "manage_calendar_feeds",
        "manage_plugins",
        "install_plugins",
        "manage_users",
        "manage_tenants",
        "manage_api_keys",
    }
)


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


def grantor_holds(grantor: Any, action: str, tenant: Any) -> bool:
    """Whether ``grantor`` may do ``action`` itself, by its role (a grant is never passed on), on
    ``tenant``, or on every tenant when ``tenant`` is None."""
    if tenant is None:
        return grantor.is_active and grantor.role in EVERY_TENANT_GRANTORS
    return action in role_capabilities_on_host(grantor, tenant)


def may_receive(role: str, action: str) -> bool:
    """Whether a user of ``role`` may be granted ``action`` (core.models.GRANTABLE_ACTIONS)."""
    grantable = GRANTABLE_ACTIONS.get(action)
    return grantable is not None and role in grantable.grantee_roles


def grant_is_backed(grant: Any, *, grantee: Any) -> bool:
    """An active grant counts only while its grantor still holds its action and ``grantee``'s
    role may still receive it: demoting or deactivating the grantor ends it, as does moving the
    grantee to a role it could not have been granted to."""
    return may_receive(grantee.role, grant.action) and grantor_holds(
        grant.grantor, grant.action, grant.tenant
    )


def _backed_grants(user: Any, tenant: Any, capability: str | None = None) -> list[Any]:
    grants = active_grants_for(user=user, tenant=tenant).select_related("grantor", "tenant")
    if capability is not None:
        grants = grants.filter(action=capability)
    return [grant for grant in grants if grant_is_backed(grant, grantee=user)]


@dataclass(frozen=True)
class CapabilityCheck:
    allowed: bool
    grant: Any = None  # the active PermissionGrant it rests on, when the role alone lacks it
    refused_in_masquerade: bool = False  # the user holds it; the masquerading operator does not


def credential_limit(user: Any) -> frozenset[str] | None:
    """The capabilities the request's credential lends at most (an API key's scopes), or None
    when the credential lends all of its user's."""
    return getattr(user, CREDENTIAL_CAPABILITIES_ATTR, None)


def _capability(user: Any, tenant: Any, capability: str) -> CapabilityCheck:
    limit = credential_limit(user)
    if limit is not None and capability not in limit:
        return CapabilityCheck(allowed=False)
    access = access_on_host(user, tenant)
    if capability in _role_capabilities(user, tenant, access):
        return CapabilityCheck(allowed=True)
    if access is Access.NONE or is_platform(tenant) or capability not in GRANTABLE_ACTIONS:
        return CapabilityCheck(allowed=False)
    grants = _backed_grants(user, tenant, capability)
    return CapabilityCheck(allowed=bool(grants), grant=grants[0] if grants else None)


def capability_on_host(
    user: Any, tenant: Any, capability: str, *, operator: Any = None
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


def capabilities_on_host(user: Any, tenant: Any, *, operator: Any = None) -> frozenset[str]:
    """Everything ``capability_on_host`` allows ``user`` on this host."""
    access = access_on_host(user, tenant)
    capabilities = _role_capabilities(user, tenant, access)
    if access is not Access.NONE and not is_platform(tenant):
        capabilities |= {grant.action for grant in _backed_grants(user, tenant)}
    if (limit := credential_limit(user)) is not None:
        capabilities &= limit
    if operator is None:
        return capabilities
    guarded = capabilities & MASQUERADE_GUARDED_CAPABILITIES
    return (capabilities - guarded) | (guarded & capabilities_on_host(operator, tenant))
