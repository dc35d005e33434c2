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


# Capabilities inside one tenant. Views ask for one of these, never for a role.
OWNER_CAPABILITIES = frozenset(
    {
        "manage_settings",
        "view_billing",
        "manage_billing",
        "view_staff",
        "manage_staff",
        "manage_resources",
        "manage_calendar_feeds",
        "manage_services",
        "view_schedule",
        "manage_schedule",
        "view_customers",
        "manage_customers",
        "handle_personal_data",
        "manage_plugins",
        "install_plugins",
        "view_plugins",
        "manage_api_keys",
    }
)
# Owners install and uninstall plugins; managers configure them; staff see what is installed.
MANAGER_CAPABILITIES = OWNER_CAPABILITIES - {
    "manage_settings",
    "view_billing",
    "manage_billing",
    "install_plugins",
    "manage_api_keys",
}
STAFF_CAPABILITIES = frozenset({"view_staff", "view_schedule", "view_customers", "view_plugins"})
# A customer acts on its own customer record only: book, cancel, read its appointments and charges.
CUSTOMER_CAPABILITIES = frozenset({"book_own"})
READ_CAPABILITIES = frozenset({"view_staff", "view_schedule", "view_customers", "view_plugins"})

TENANT_ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    Role.TENANT_OWNER: OWNER_CAPABILITIES,
    Role.TENANT_MANAGER: MANAGER_CAPABILITIES,
    Role.TENANT_STAFF: STAFF_CAPABILITIES,
    Role.CUSTOMER: CUSTOMER_CAPABILITIES,
}


def role_capabilities(*, role: str, access: Access) -> frozenset[str]:
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
PLATFORM_ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    Role.SUPERUSER: frozenset({"view_tenants", "manage_tenants", "view_users", "manage_users"}),
    Role.PLATFORM_MANAGER: frozenset(
        {"view_tenants", "manage_tenants", "view_users", "manage_users"}
    ),
    Role.PLATFORM_SUPPORT: frozenset({"view_tenants", "view_users"}),
    Role.PLATFORM_SALES: frozenset({"view_tenants", "view_users"}),
}


def platform_capabilities(*, role: str) -> frozenset[str]:
    return PLATFORM_ROLE_CAPABILITIES.get(role, frozenset())


# What each capability lets one do, as refusals say it ("Your role may not ..."): API clients see
# these sentences, never the capability names.
CAPABILITY_ACTIONS: dict[str, str] = {
    "manage_settings": "change this business's settings",
    "view_billing": "see this business's billing",
    "manage_billing": "change this business's billing",
    "view_staff": "see this business's people",
    "manage_staff": "add or change this business's people",
    "manage_resources": "add or change resources",
    "manage_services": "add or change services",
    "view_schedule": "see the schedule",
    "manage_schedule": "change the schedule",
    "view_customers": "see customers",
    "manage_customers": "add or change customers",
    "handle_personal_data": "export or erase a customer's personal data",
    "manage_plugins": "configure plugins, their webhooks or e-mail templates",
    "install_plugins": "install or uninstall plugins",
    "view_plugins": "see this business's plugins",
    "manage_calendar_feeds": "issue or switch off calendar feeds",
    "manage_api_keys": "create, list or revoke this business's API keys",
    "book_own": "book for yourself",
    "view_tenants": "see businesses",
    "manage_tenants": "add or change businesses",
    "view_users": "see platform users",
    "manage_users": "add or change platform users",
}


def refusal_message(*capabilities: str) -> str:
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
