"""The rules of grants and of masquerading's limits, as data and pure functions: which actions may
be granted and to whom, who may grant them, when a grant still counts, and which capabilities a
masquerading operator must hold itself. Read by the grant records and services
(access.models, access.grants) and by every capability check (access.capabilities)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from core.exceptions import DomainError, PermissionDenied
from tenancy.models import Tenant
from users.models import User
from users.reach import access_on_host, role_capabilities_on_host
from users.roles import Access, Capability, Role

MIN_GRANT_MINUTES = 1

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
        Capability.MANAGE_STAFF,
        Capability.HANDLE_PERSONAL_DATA,
        Capability.MANAGE_SETTINGS,
        Capability.VIEW_BILLING,
        Capability.MANAGE_BILLING,
        Capability.MANAGE_CALENDAR_FEEDS,
        Capability.MANAGE_PLUGINS,
        Capability.INSTALL_PLUGINS,
        Capability.MANAGE_USERS,
        Capability.MANAGE_TENANTS,
        Capability.MANAGE_API_KEYS,
    }
)


@dataclass(frozen=True)
class GrantableAction:
    """One thing that may be granted for a while: why one would, and which roles may receive it
    (access.capabilities checks it at creation and again at every use)."""

    description: str
    grantee_roles: frozenset[str]

    def __str__(self) -> str:
        return self.description


# Each name is a tenant capability of users.roles; a grant adds it on tenant hosts its grantee
# already reaches (never a new host). Nobody receives what its role already holds everywhere it
# reaches (owners, SUPERUSER, PLATFORM_MANAGER, PLATFORM_SALES on its demo tenants), and a
# CUSTOMER never receives anything: a grant lifts a business's people or the platform's support
# for a task, never a customer into the business's records.
GRANTABLE_ACTIONS: dict[str, GrantableAction] = {  # keyed by Capability members
    Capability.VIEW_BILLING: GrantableAction(
        "Read a tenant's billing and subscription (support answering a billing query).",
        frozenset({Role.PLATFORM_SUPPORT, Role.TENANT_MANAGER}),
    ),
    Capability.MANAGE_BILLING: GrantableAction(
        "Change a tenant's billing records.",
        frozenset({Role.PLATFORM_SUPPORT, Role.TENANT_MANAGER}),
    ),
    Capability.MANAGE_SETTINGS: GrantableAction(
        "Change a tenant's settings and policies.",
        frozenset({Role.PLATFORM_SUPPORT, Role.TENANT_MANAGER}),
    ),
    Capability.VIEW_CUSTOMERS: GrantableAction(
        "Read a tenant's customers.", frozenset({Role.PLATFORM_SUPPORT, Role.TENANT_STAFF})
    ),
    Capability.MANAGE_CUSTOMERS: GrantableAction(
        "Change a tenant's customers.", frozenset({Role.PLATFORM_SUPPORT, Role.TENANT_STAFF})
    ),
    Capability.MANAGE_PLUGINS: GrantableAction(
        "Install, configure and remove a tenant's plugins.",
        frozenset({Role.PLATFORM_SUPPORT, Role.TENANT_STAFF}),
    ),
}


def grantor_holds(grantor: User, action: str, tenant: Tenant | None) -> bool:
    """Whether ``grantor`` may do ``action`` itself, by its role (a grant is never passed on), on
    ``tenant``, or on every tenant when ``tenant`` is None."""
    if tenant is None:
        return grantor.is_active and grantor.role in EVERY_TENANT_GRANTORS
    return action in role_capabilities_on_host(grantor, tenant)


def may_receive(role: str, action: str) -> bool:
    """Whether a user of ``role`` may be granted ``action`` (access.policy.GRANTABLE_ACTIONS)."""
    grantable = GRANTABLE_ACTIONS.get(action)
    return grantable is not None and role in grantable.grantee_roles


def grant_is_backed(grant: Any, *, grantee: User) -> bool:
    """An active grant counts only while its grantor still holds its action and ``grantee``'s
    role may still receive it: demoting or deactivating the grantor ends it, as does moving the
    grantee to a role it could not have been granted to."""
    return may_receive(grantee.role, grant.action) and grantor_holds(
        grant.grantor, grant.action, grant.tenant
    )


@dataclass(frozen=True)
class GrantTerms:
    reason: str  # stripped
    minutes: int


def grant_terms_check(
    *,
    grantor: User,
    grantee: User,
    action: str,
    reason: str,
    duration_minutes: int,
    tenant: Tenant | None,
) -> GrantTerms:
    """The terms of a new grant once every rule holds; the first rule broken raises: the action
    must be grantable, with a reason and a whole-minute duration within the limit, between two
    active people, from a grantor who holds it to a grantee who may receive it where it works."""
    terms = GrantTerms(
        reason=_grant_reason(reason), minutes=_grant_minutes(action, duration_minutes)
    )
    _check_grant_people(grantor=grantor, grantee=grantee, action=action, tenant=tenant)
    return terms


def _grant_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("A grant needs a reason.", fields={"reason": ["Required."]})
    return reason


def _grant_minutes(action: str, duration_minutes: int) -> int:
    max_minutes = settings.PERMISSION_GRANT_MAX_MINUTES
    if action not in GRANTABLE_ACTIONS:
        raise DomainError(
            f"'{action}' cannot be granted; grantable: {', '.join(sorted(GRANTABLE_ACTIONS))}.",
            fields={"action": ["Not grantable."]},
        )
    if isinstance(duration_minutes, bool) or not isinstance(duration_minutes, int):
        raise DomainError(
            "The duration is a whole number of minutes.",
            fields={"duration_minutes": ["Whole minutes."]},
        )
    if not MIN_GRANT_MINUTES <= duration_minutes <= max_minutes:
        raise DomainError(
            f"A grant lasts from {MIN_GRANT_MINUTES} to {max_minutes} minutes.",
            fields={"duration_minutes": [f"Between {MIN_GRANT_MINUTES} and {max_minutes}."]},
        )
    return duration_minutes


def _check_grant_people(
    *, grantor: User, grantee: User, action: str, tenant: Tenant | None
) -> None:
    if grantor.pk == grantee.pk:
        raise PermissionDenied("Nobody can grant themselves a permission.", code="self_grant")
    if not grantor.is_active or not grantee.is_active:
        raise PermissionDenied("Grants are made by and to active users only.")
    if not grantor_holds(grantor, action, tenant):
        raise PermissionDenied(
            f"You cannot grant '{action}'{' on every tenant' if tenant is None else ''}: "
            "you do not hold it yourself.",
            code="grantor_lacks_action",
        )
    if not may_receive(grantee.role, action):
        roles = ", ".join(sorted(GRANTABLE_ACTIONS[action].grantee_roles))
        raise DomainError(
            f"'{action}' cannot be granted to a {grantee.role}; it goes to: {roles}.",
            code="grantee_role_not_eligible",
            fields={"grantee": [f"A {grantee.role} cannot receive '{action}'."]},
        )
    if tenant is not None and access_on_host(grantee, tenant) is Access.NONE:
        # Grants add capabilities where the grantee already works; they never open a host.
        raise DomainError(
            f"{grantee.email} cannot reach {tenant.name}; a grant would not change that.",
            fields={"grantee": ["Out of this tenant's reach."]},
        )
