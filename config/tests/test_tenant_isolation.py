"""Generated from the tenant URL router: for every endpoint and method, tenant A's credentials
with tenant B's object ids read nothing of B and change nothing of B, on A's host and on B's."""

import pytest
from rest_framework.test import APIClient

from config.tests.routes import (
    PUBLIC_BOOKING_ROUTES,
    PUBLIC_ROUTES,
    SESSION_ROUTES,
    SHARED_KWARGS,
    call,
    identifiers,
    open_public_booking,
    snapshot,
    tenant_routes,
)
from conftest import HOST_A, HOST_B, bearer, connection

ROUTES = tenant_routes()


def test_the_router_lists_the_scheduling_endpoints():
    names = {route.name for route in ROUTES}
    assert {"appointment-list", "availability", "charge-detail", "tenant-users", "me"} <= names


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.id)
def test_tenant_a_credentials_never_reach_tenant_b(route, world_a, world_b, tenant_b):
    b_ids = identifiers(world_b)  # first: it makes B's on-demand records (issue 13's)
    connection.set_schema_to_public()
    if route.name in PUBLIC_BOOKING_ROUTES:  # both take guests: the answers come from the views
        open_public_booking(world_a.tenant, tenant_b)
    before = snapshot("beta", tenant_b.pk)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(world_a.owner, "alpha"))

    # On A's own host, naming B's objects in the URL and in the body.
    on_a = call(client, route, world_b, HOST_A)
    assert on_a.status_code < 500
    if route.kwargs and not set(route.kwargs) <= SHARED_KWARGS:
        assert on_a.status_code == 404, (route.id, on_a.status_code)
    sent = (
        on_a.request["PATH_INFO"]
        + on_a.request.get("QUERY_STRING", "")
        + str(on_a.wsgi_request.body)
    )
    shown = on_a.content.decode(errors="replace")
    leaked = {i for i in b_ids if i in shown and i not in sent}  # echoing what was sent is fine
    assert not leaked, (route.id, leaked)

    # On B's host: A's token is worthless, and so is A's password.
    if route.name in SESSION_ROUTES:
        on_b = call(client, route, world_b, HOST_B)
        assert not 200 <= on_b.status_code < 300, (route.id, on_b.status_code)
    elif route.name not in PUBLIC_ROUTES:
        on_b = call(client, route, world_b, HOST_B)
        assert on_b.status_code == 401, (route.id, on_b.status_code)
    elif route.name in ("token-obtain", "session") and route.method == "post":
        signin = call(APIClient(), route, world_a, HOST_B)
        assert signin.status_code in (400, 401, 403), (route.id, signin.status_code)

    connection.set_schema_to_public()
    assert snapshot("beta", tenant_b.pk) == before, route.id
