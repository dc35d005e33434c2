"""Every endpoint and method of a tenant host, for every one of the 8 roles: allowed or refused,
as SPEC §2.2 says. The endpoints come from the URL router, so a new one fails here until it has
a row. Each call runs in a savepoint that is rolled back, so one role's write never changes what
the next one finds."""

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from appointments.tests.group import issue13_objects
from config.tests.routes import (
    PUBLIC_BOOKING_ROUTES,
    PUBLIC_ROUTES,
    SESSION_ROUTES,
    call,
    open_public_booking,
    tenant_routes,
)
from conftest import HOST_A, bearer, connection
from users.roles import Role

OWNER, MANAGER, STAFF, CUSTOMER = "TENANT_OWNER", "TENANT_MANAGER", "TENANT_STAFF", "CUSTOMER"
SUPER, PMANAGER, SUPPORT, SALES = (
    "SUPERUSER",
    "PLATFORM_MANAGER",
    "PLATFORM_SUPPORT",
    "PLATFORM_SALES",
)

FULL_PLATFORM = {SUPER, PMANAGER}
IN_SCOPE = {OWNER, MANAGER, STAFF, CUSTOMER, SUPPORT} | FULL_PLATFORM  # reads open to all here
SCHEDULE_READERS = {OWNER, MANAGER, STAFF, SUPPORT} | FULL_PLATFORM
MANAGERS = {OWNER, MANAGER} | FULL_PLATFORM
BILLING = {OWNER} | FULL_PLATFORM
SETTINGS = {OWNER} | FULL_PLATFORM
PLUGIN_INSTALLERS = {OWNER} | FULL_PLATFORM
# Staff act on appointments and blockers holding their own resource (the world's appointment
# does; its blocker, on the room, does not).
SCHEDULE_WRITERS = MANAGERS | {STAFF}

ALLOWED: dict[str, set[str]] = {
    "GET me": IN_SCOPE,
    # Anyone signed in here changes its own password; PLATFORM_SUPPORT only reads on this host.
    "POST password-change": (IN_SCOPE - {SUPPORT}),
    "GET tenant-users": SCHEDULE_READERS,
    "POST tenant-users": MANAGERS,
    "GET availability": IN_SCOPE,
    "GET billing-summary": BILLING,
    "GET billing-settings": BILLING,
    "PATCH billing-settings": BILLING,
    "GET resource-list": IN_SCOPE,
    "POST resource-list": MANAGERS,
    "GET resource-detail": IN_SCOPE,
    "PATCH resource-detail": MANAGERS,
    "DELETE resource-detail": MANAGERS,
    "POST resource-calendar-feed": MANAGERS,
    "DELETE resource-calendar-feed": MANAGERS,
    "PUT resource-photo": MANAGERS,
    "DELETE resource-photo": MANAGERS,
    "GET date-override-list": SCHEDULE_READERS,
    "POST date-override-list": MANAGERS,
    "GET date-override-detail": SCHEDULE_READERS,
    "PATCH date-override-detail": MANAGERS,
    "DELETE date-override-detail": MANAGERS,
    "GET service-list": IN_SCOPE,
    "POST service-list": MANAGERS,
    "GET service-detail": IN_SCOPE,
    "PATCH service-detail": MANAGERS,
    "DELETE service-detail": MANAGERS,
    "GET customer-list": IN_SCOPE,  # a customer sees itself only
    "POST customer-list": MANAGERS,
    "GET customer-detail": IN_SCOPE,  # the world's customer is the CUSTOMER user's own
    "PATCH customer-detail": MANAGERS,
    "DELETE customer-detail": MANAGERS,
    # A customer's personal data, as a whole: its owners and managers (support only reads).
    "GET customer-export": MANAGERS,
    "POST customer-erase": MANAGERS,
    "GET appointment-list": IN_SCOPE,
    "POST appointment-list": SCHEDULE_WRITERS | {CUSTOMER},
    "GET appointment-detail": IN_SCOPE,
    "PATCH appointment-detail": SCHEDULE_WRITERS,
    "POST appointment-reschedule": SCHEDULE_WRITERS | {CUSTOMER},  # its own, per the policy
    "POST appointment-confirm": SCHEDULE_WRITERS,
    "POST appointment-complete": SCHEDULE_WRITERS,
    "POST appointment-no-show": SCHEDULE_WRITERS,
    "POST appointment-cancel": SCHEDULE_WRITERS | {CUSTOMER},
    # Issue 13: series book and cancel like appointments (staff on their own resource,
    # customers their own); moving one is the business's; the waitlist is joined and left by
    # whoever may book.
    "GET appointment-series-list": IN_SCOPE,
    "POST appointment-series-list": SCHEDULE_WRITERS | {CUSTOMER},
    "GET appointment-series-detail": IN_SCOPE,
    "POST appointment-series-cancel": SCHEDULE_WRITERS | {CUSTOMER},
    "POST appointment-series-reschedule": SCHEDULE_WRITERS,
    "GET waitlist-entry-list": IN_SCOPE,
    "POST waitlist-entry-list": SCHEDULE_WRITERS | {CUSTOMER},
    "GET waitlist-entry-detail": IN_SCOPE,
    "DELETE waitlist-entry-detail": SCHEDULE_WRITERS | {CUSTOMER},
    "GET blocker-list": SCHEDULE_READERS,
    "POST blocker-list": SCHEDULE_WRITERS,  # the body blocks the staff member's own resource
    "GET blocker-detail": SCHEDULE_READERS,
    "PATCH blocker-detail": MANAGERS,
    "DELETE blocker-detail": MANAGERS,
    "GET closure-list": SCHEDULE_READERS,
    "POST closure-list": MANAGERS,
    "GET closure-detail": SCHEDULE_READERS,
    "PATCH closure-detail": MANAGERS,
    "DELETE closure-detail": MANAGERS,
    "GET charge-list": BILLING | {CUSTOMER},  # a customer sees its own charges
    "GET charge-detail": BILLING | {CUSTOMER},  # the world's charge is the customer's
    "PATCH charge-detail": BILLING,
    # core's tenant settings endpoints (issue 5): manage_settings, the owner's
    "GET tenant-logo": IN_SCOPE,
    "PUT tenant-logo": SETTINGS,
    "DELETE tenant-logo": SETTINGS,
    "GET tenant-settings": SETTINGS,
    "PATCH tenant-settings": SETTINGS,
    "GET tenant-domains": SETTINGS,
    "POST tenant-domains": SETTINGS,
    "GET tenant-domain": SETTINGS,
    "DELETE tenant-domain": SETTINGS,
    "POST tenant-domain-verify": SETTINGS,
    "GET tenant-subscription": BILLING,
    # core's masquerade API (issue 3): everyone on the host reaches it; whom one may masquerade
    # as is access.masquerade.rules' matrix, tested there (an empty body here is a 400 for all).
    "POST masquerade": IN_SCOPE,
    "DELETE masquerade": IN_SCOPE,
    "POST masquerade-end": IN_SCOPE,
    # The plugin marketplace (issue 12): owners install, managers configure, staff read.
    "GET plugin-list": IN_SCOPE,
    "GET plugin-detail": IN_SCOPE,
    "POST plugin-install": PLUGIN_INSTALLERS,
    "PUT plugin-rating": MANAGERS,
    "GET installed-plugin-list": SCHEDULE_READERS,
    "GET installed-plugin-detail": SCHEDULE_READERS,
    "PATCH installed-plugin-detail": MANAGERS,
    "DELETE installed-plugin-detail": PLUGIN_INSTALLERS,
    "GET webhook-endpoint-list": SCHEDULE_READERS,
    "POST webhook-endpoint-list": MANAGERS,
    "GET webhook-endpoint-detail": SCHEDULE_READERS,
    "PATCH webhook-endpoint-detail": MANAGERS,
    "DELETE webhook-endpoint-detail": MANAGERS,
    "POST webhook-endpoint-rotate-secret": MANAGERS,
    "GET delivery-list": SCHEDULE_READERS,
    "GET delivery-detail": SCHEDULE_READERS,
    "POST delivery-redeliver": MANAGERS,
    "GET review-list": SCHEDULE_READERS,
    "GET review-detail": SCHEDULE_READERS,
    "POST review-reply": MANAGERS,
    "GET email-templates": SCHEDULE_READERS,
    "GET email-template": SCHEDULE_READERS,
    "PUT email-template": MANAGERS,
    "DELETE email-template": MANAGERS,
    "GET customer-preference": IN_SCOPE,  # a customer reads its own
    "PUT customer-preference": MANAGERS | {CUSTOMER},  # and sets its own timezone
    # API keys (issue 10): a credential of the business, its owners'.
    "GET api-key-list": SETTINGS,
    "POST api-key-list": SETTINGS,
    "GET api-key-detail": SETTINGS,
    "POST api-key-revoke": SETTINGS,
    # The public booking page (issue 13): anyone, no account needed, while the business has it on
    # (switched on for these rows; switched off it is a 404 for everyone). Credentials sent along
    # must still be valid on the host: PLATFORM_SALES' are not on a business without demo
    # accounts (401, as everywhere).
    **{
        f"{method} {name}": IN_SCOPE
        for name, method in [
            ("public-services", "GET"),
            ("public-availability", "GET"),
            ("public-holds", "POST"),
            ("public-bookings", "POST"),
            ("public-manage", "POST"),
            ("public-manage-cancel", "POST"),
            ("public-manage-reschedule", "POST"),
        ]
    },
}

# Public routes take no credentials; session-only pages ignore API credentials (core's own tests
# cover who may masquerade as whom).
ROUTES = [r for r in tenant_routes() if r.name not in PUBLIC_ROUTES | SESSION_ROUTES]


def test_every_endpoint_has_a_row():
    # Rows may name endpoints of branches not merged yet; an endpoint without a row fails here.
    assert {route.id for route in ROUTES} <= set(ALLOWED)


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.id)
def test_role_matrix(route, world_a, make_user):
    users = {
        OWNER: world_a.owner, MANAGER: world_a.manager, STAFF: world_a.staff,
        CUSTOMER: world_a.customer_user,
        **{role: make_user(role) for role in (SUPER, PMANAGER, SUPPORT, SALES)},
    }  # fmt: skip
    assert set(users) == set(Role)
    issue13_objects(world_a)  # made before the savepoints, so every role meets them
    if route.name in PUBLIC_BOOKING_ROUTES:
        open_public_booking(world_a.tenant)
    allowed = ALLOWED[route.id]
    outcomes = {}
    for role, user in users.items():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=bearer(user, "alpha"))
        savepoint = transaction.savepoint()
        response = call(client, route, world_a, HOST_A)
        connection.set_schema_to_public()
        transaction.savepoint_rollback(savepoint)
        outcomes[role] = response.status_code
    refused = {role for role, status in outcomes.items() if status in (401, 403)}
    assert all(status < 500 for status in outcomes.values()), (route.id, outcomes)
    if route.name in PUBLIC_BOOKING_ROUTES:  # really served, not a 404 for everyone
        assert all(outcomes[role] < 300 for role in allowed), (route.id, outcomes)
    assert refused == set(users) - allowed, (route.id, outcomes)
