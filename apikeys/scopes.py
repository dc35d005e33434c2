"""What an API key may do: a fixed set of scopes, each a set of the capabilities of
``users/roles.py``. A key never holds more than its creator's role holds on the host at the time
of the request (``access.capabilities`` intersects the two); a scope only narrows.

Reads (GET, HEAD, OPTIONS) may use the capabilities of every scope the key holds; writes only
those of its ``:write`` scopes, so a read scope can never be used to change anything (for
instance through the rule that lets staff change appointments on their own resource).
Endpoints that check no capability (the signed-in user, passwords, masquerading, API keys
themselves, the plugin catalogue) refuse keys altogether; what every user of a host may read
(services, resources, the logo) any key of that host may read.
"""

from __future__ import annotations

from django.db import models

from users.roles import Capability


class Scope(models.TextChoices):
    APPOINTMENTS_READ = "appointments:read", "Read appointments, blockers, availability"
    APPOINTMENTS_WRITE = "appointments:write", "Book and change appointments and blockers"
    CUSTOMERS_READ = "customers:read", "Read customers"
    CUSTOMERS_WRITE = "customers:write", "Add and change customers"
    RESOURCES_WRITE = "resources:write", "Add and change resources"
    SERVICES_WRITE = "services:write", "Add and change services"
    BILLING_READ = "billing:read", "Read charges and the revenue summary"
    BILLING_WRITE = "billing:write", "Change charges' payment status and billing settings"


# scope -> (capabilities it lends to reads, capabilities it lends to writes)
SCOPE_CAPABILITIES: dict[str, tuple[frozenset[Capability], frozenset[Capability]]] = {
    Scope.APPOINTMENTS_READ: (frozenset({Capability.VIEW_SCHEDULE}), frozenset()),
    Scope.APPOINTMENTS_WRITE: (
        frozenset({Capability.VIEW_SCHEDULE}),
        frozenset({Capability.VIEW_SCHEDULE, Capability.MANAGE_SCHEDULE}),
    ),
    Scope.CUSTOMERS_READ: (frozenset({Capability.VIEW_CUSTOMERS}), frozenset()),
    Scope.CUSTOMERS_WRITE: (
        frozenset({Capability.VIEW_CUSTOMERS}),
        frozenset({Capability.VIEW_CUSTOMERS, Capability.MANAGE_CUSTOMERS}),
    ),
    Scope.RESOURCES_WRITE: (frozenset(), frozenset({Capability.MANAGE_RESOURCES})),
    Scope.SERVICES_WRITE: (frozenset(), frozenset({Capability.MANAGE_SERVICES})),
    Scope.BILLING_READ: (frozenset({Capability.VIEW_BILLING}), frozenset()),
    Scope.BILLING_WRITE: (
        frozenset({Capability.VIEW_BILLING}),
        frozenset({Capability.VIEW_BILLING, Capability.MANAGE_BILLING}),
    ),
}


def scope_capabilities(scopes: list[str], *, writing: bool) -> frozenset[Capability]:
    """The capabilities ``scopes`` lend to a read or a write request; unknown scopes lend none."""
    lent: frozenset[Capability] = frozenset()
    for scope in scopes:
        read, write = SCOPE_CAPABILITIES.get(scope, (frozenset(), frozenset()))
        lent |= write if writing else read
    return lent
