"""What each role may reach (SPEC §2.2), as data plus small pure functions.

Everything that asks "may this user do X here?" ends in this module: the host scope (may the
user act on this tenant's host at all, and may it write) and the capabilities inside a tenant.
Time-limited grants (access.masquerade.rules) add capabilities on top; they never widen host scope.
"""

from __future__ import annotations

import enum

from django.db import models


class Role(models.TextChoices):
    SUPERUSER = "SUPERUSER", "Superuser"
    PLATFORM_MANAGER = "PLATFORM_MANAGER", "Platform manager"
    PLATFORM_SALES = "PLATFORM_SALES", "Platform sales"
    PLATFORM_SUPPORT = "PLATFORM_SUPPORT", "Platform support"
    TENANT_OWNER = "TENANT_OWNER", "Tenant owner"
    TENANT_MANAGER = "TENANT_MANAGER", "Tenant manager"
    TENANT_STAFF = "TENANT_STAFF", "Tenant staff"
    CUSTOMER = "CUSTOMER", "Customer"


PLATFORM_ROLES = frozenset(
    {Role.SUPERUSER, Role.PLATFORM_MANAGER, Role.PLATFORM_SALES, Role.PLATFORM_SUPPORT}
)
TENANT_ROLES = frozenset({Role.TENANT_OWNER, Role.TENANT_MANAGER, Role.TENANT_STAFF, Role.CUSTOMER})
# Roles that count as a tenant's staff (the subscription tier's "staff_users" limit).
STAFF_ROLES = frozenset({Role.TENANT_OWNER, Role.TENANT_MANAGER, Role.TENANT_STAFF})


class Access(enum.IntEnum):
    """How far a user reaches on one host."""

    NONE = 0
    READ = 1  # safe methods only
    FULL = 2


def host_access(
    *, role: str, user_tenant_id: int | None, host_tenant_id: int | None, host_is_demo: bool
) -> Access:
    """How far a user of ``role`` reaches on a host.

    ``host_tenant_id`` is None on the platform host (public schema). ``host_is_demo`` says whether
    the host's tenant holds demo accounts (``is_temporary`` users): PLATFORM_SALES's whole world.
    """
    if host_tenant_id is None:
        return Access.FULL if role in PLATFORM_ROLES else Access.NONE
    if role in (Role.SUPERUSER, Role.PLATFORM_MANAGER):
        return Access.FULL
    if role == Role.PLATFORM_SUPPORT:
        return Access.READ
    if role == Role.PLATFORM_SALES:
        return Access.FULL if host_is_demo else Access.NONE
    if role in TENANT_ROLES and user_tenant_id is not None and user_tenant_id == host_tenant_id:
        return Access.FULL
    return Access.NONE


class Capability(enum.StrEnum):
    """Something a user may do on a host. Views ask for one of these, never for a role; a name
    that is not a member fails at import (``Capability("...")``) and at type-check time."""

    MANAGE_SETTINGS = "manage_settings"
    VIEW_BILLING = "view_billing"
    MANAGE_BILLING = "manage_billing"
    VIEW_STAFF = "view_staff"
    MANAGE_STAFF = "manage_staff"
    MANAGE_RESOURCES = "manage_resources"
    MANAGE_SERVICES = "manage_services"
    VIEW_SCHEDULE = "view_schedule"
    MANAGE_SCHEDULE = "manage_schedule"
    VIEW_CUSTOMERS = "view_customers"
    MANAGE_CUSTOMERS = "manage_customers"
    HANDLE_PERSONAL_DATA = "handle_personal_data"
    MANAGE_PLUGINS = "manage_plugins"
    INSTALL_PLUGINS = "install_plugins"
    VIEW_PLUGINS = "view_plugins"
    MANAGE_CALENDAR_FEEDS = "manage_calendar_feeds"
    MANAGE_API_KEYS = "manage_api_keys"
    BOOK_OWN = "book_own"
    VIEW_TENANTS = "view_tenants"
    MANAGE_TENANTS = "manage_tenants"
    VIEW_USERS = "view_users"
    MANAGE_USERS = "manage_users"


# Capabilities inside one tenant.
OWNER_CAPABILITIES = frozenset(
    {
        Capability.MANAGE_SETTINGS,
        Capability.VIEW_BILLING,
        Capability.MANAGE_BILLING,
        Capability.VIEW_STAFF,
        Capability.MANAGE_STAFF,
        Capability.MANAGE_RESOURCES,
        Capability.MANAGE_CALENDAR_FEEDS,
        Capability.MANAGE_SERVICES,
        Capability.VIEW_SCHEDULE,
        Capability.MANAGE_SCHEDULE,
        Capability.VIEW_CUSTOMERS,
        Capability.MANAGE_CUSTOMERS,
        Capability.HANDLE_PERSONAL_DATA,
        Capability.MANAGE_PLUGINS,
        Capability.INSTALL_PLUGINS,
        Capability.VIEW_PLUGINS,
        Capability.MANAGE_API_KEYS,
    }
)
# Owners install and uninstall plugins; managers configure them; staff see what is installed.
MANAGER_CAPABILITIES = OWNER_CAPABILITIES - {
    Capability.MANAGE_SETTINGS,
    Capability.VIEW_BILLING,
    Capability.MANAGE_BILLING,
    Capability.INSTALL_PLUGINS,
    Capability.MANAGE_API_KEYS,
}
STAFF_CAPABILITIES = frozenset(
    {
        Capability.VIEW_STAFF,
        Capability.VIEW_SCHEDULE,
        Capability.VIEW_CUSTOMERS,
        Capability.VIEW_PLUGINS,
    }
)
# A customer acts on its own customer record only: book, cancel, read its appointments and charges.
CUSTOMER_CAPABILITIES = frozenset({Capability.BOOK_OWN})
READ_CAPABILITIES = frozenset(
    {
        Capability.VIEW_STAFF,
        Capability.VIEW_SCHEDULE,
        Capability.VIEW_CUSTOMERS,
        Capability.VIEW_PLUGINS,
    }
)

TENANT_ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.TENANT_OWNER: OWNER_CAPABILITIES,
    Role.TENANT_MANAGER: MANAGER_CAPABILITIES,
    Role.TENANT_STAFF: STAFF_CAPABILITIES,
    Role.CUSTOMER: CUSTOMER_CAPABILITIES,
}


def role_capabilities(*, role: str, access: Access) -> frozenset[Capability]:
    """Capabilities a role holds on a tenant host it reaches with ``access``.

    Platform roles act as the tenant's owner where they have FULL access and may only look where
    they have READ access. Billing stays out of PLATFORM_SUPPORT's reach unless a grant adds it.
    """
    if access is Access.NONE:
        return frozenset()
    if role in TENANT_ROLE_CAPABILITIES:
        return TENANT_ROLE_CAPABILITIES[role]
    return OWNER_CAPABILITIES if access is Access.FULL else READ_CAPABILITIES


# Capabilities on the platform host (public schema): the operators' console.
PLATFORM_ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.SUPERUSER: frozenset(
        {
            Capability.VIEW_TENANTS,
            Capability.MANAGE_TENANTS,
            Capability.VIEW_USERS,
            Capability.MANAGE_USERS,
        }
    ),
    Role.PLATFORM_MANAGER: frozenset(
        {
            Capability.VIEW_TENANTS,
            Capability.MANAGE_TENANTS,
            Capability.VIEW_USERS,
            Capability.MANAGE_USERS,
        }
    ),
    Role.PLATFORM_SUPPORT: frozenset({Capability.VIEW_TENANTS, Capability.VIEW_USERS}),
    Role.PLATFORM_SALES: frozenset({Capability.VIEW_TENANTS, Capability.VIEW_USERS}),
}


def platform_capabilities(*, role: str) -> frozenset[Capability]:
    return PLATFORM_ROLE_CAPABILITIES.get(role, frozenset())


# What each capability lets one do, as refusals say it ("Your role may not ..."): API clients see
# these sentences, never the capability names.
CAPABILITY_ACTIONS: dict[Capability, str] = {
    Capability.MANAGE_SETTINGS: "change this business's settings",
    Capability.VIEW_BILLING: "see this business's billing",
    Capability.MANAGE_BILLING: "change this business's billing",
    Capability.VIEW_STAFF: "see this business's people",
    Capability.MANAGE_STAFF: "add or change this business's people",
    Capability.MANAGE_RESOURCES: "add or change resources",
    Capability.MANAGE_SERVICES: "add or change services",
    Capability.VIEW_SCHEDULE: "see the schedule",
    Capability.MANAGE_SCHEDULE: "change the schedule",
    Capability.VIEW_CUSTOMERS: "see customers",
    Capability.MANAGE_CUSTOMERS: "add or change customers",
    Capability.HANDLE_PERSONAL_DATA: "export or erase a customer's personal data",
    Capability.MANAGE_PLUGINS: "configure plugins, their webhooks or e-mail templates",
    Capability.INSTALL_PLUGINS: "install or uninstall plugins",
    Capability.VIEW_PLUGINS: "see this business's plugins",
    Capability.MANAGE_CALENDAR_FEEDS: "issue or switch off calendar feeds",
    Capability.MANAGE_API_KEYS: "create, list or revoke this business's API keys",
    Capability.BOOK_OWN: "book for yourself",
    Capability.VIEW_TENANTS: "see businesses",
    Capability.MANAGE_TENANTS: "add or change businesses",
    Capability.VIEW_USERS: "see platform users",
    Capability.MANAGE_USERS: "add or change platform users",
}


def refusal_message(*capabilities: Capability) -> str:
    """What a refusal for lacking all of ``capabilities`` tells the user."""
    return f"Your role may not {' or '.join(CAPABILITY_ACTIONS[c] for c in capabilities)}."


# Which roles may create users of which roles, on the platform host or within their own tenant.
ASSIGNABLE_ROLES: dict[str, frozenset[str]] = {
    Role.SUPERUSER: frozenset(Role),
    Role.PLATFORM_MANAGER: frozenset(Role) - {Role.SUPERUSER},
    Role.PLATFORM_SALES: frozenset(),
    Role.PLATFORM_SUPPORT: frozenset(),
    Role.TENANT_OWNER: frozenset(
        {Role.TENANT_OWNER, Role.TENANT_MANAGER, Role.TENANT_STAFF, Role.CUSTOMER}
    ),
    Role.TENANT_MANAGER: frozenset({Role.TENANT_STAFF, Role.CUSTOMER}),
    Role.TENANT_STAFF: frozenset(),
    Role.CUSTOMER: frozenset(),
}


# A hosted zone is an account-wide resource: only these platform operators may point a domain at
# one; tenant owners get the platform's default zone.
ZONE_CHOOSING_ROLES = frozenset({Role.SUPERUSER, Role.PLATFORM_MANAGER})


def may_choose_hosted_zone(user: object) -> bool:
    return getattr(user, "role", None) in ZONE_CHOOSING_ROLES


def may_assign_role(*, actor_role: str, target_role: str) -> bool:
    return target_role in ASSIGNABLE_ROLES.get(actor_role, frozenset())


def may_administer(
    *, actor_role: str, actor_tenant_id: int | None, role: str, tenant_id: int | None
) -> bool:
    """Whether a user may create, or change (profile, role, activity, password), an account
    with ``role`` in tenant ``tenant_id``: only a role it may assign, and for a tenant role only
    inside its own tenant. So nobody edits an account above its own, a SUPERUSER's least of all."""
    if not may_assign_role(actor_role=actor_role, target_role=role):
        return False
    return actor_role in PLATFORM_ROLES or (
        actor_tenant_id is not None and actor_tenant_id == tenant_id
    )


# Django admin (platform host only): SUPERUSER and PLATFORM_MANAGER administer, the others look.
def admin_permits(*, role: str, codename: str) -> bool:
    if role in (Role.SUPERUSER, Role.PLATFORM_MANAGER):
        return True
    if role in (Role.PLATFORM_SUPPORT, Role.PLATFORM_SALES):
        return codename.startswith("view_")
    return False
