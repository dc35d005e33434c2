"""Permission grants through the platform API: the same rules as the admin and the seed's
``PermissionGrant.create_grant``, and the grant really changes what the grantee may do."""

import pytest

from conftest import HOST_A, PLATFORM_HOST
from core.audit import audit_log_record
from core.models import AuditEvent
from users.roles import Role

pytestmark = pytest.mark.django_db

GRANTS = "/api/platform/grants/"


@pytest.fixture
def manager(make_user):
    return make_user(Role.PLATFORM_MANAGER)


@pytest.fixture
def support(make_user):
    return make_user(Role.PLATFORM_SUPPORT)


def grant_payload(to, **overrides):
    return {
        "grantee": str(to.public_id),
        "action": "view_billing",
        "reason": "Customer asked about an invoice",
        "duration_minutes": 30,
        "tenant": "alpha",
    } | overrides


def test_a_grant_made_through_the_api_opens_billing_and_revoking_closes_it(
    api, manager, support, tenant_a
):
    support_on_a = api(HOST_A, support, issued_on="public")
    answer = support_on_a.get("/api/subscription/")
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "permission_denied"

    created = api(PLATFORM_HOST, manager).post(GRANTS, grant_payload(support), format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["status"], body["grantee"], body["tenant"]) == ("ACTIVE", support.email, "alpha")
    assert support_on_a.get("/api/subscription/").status_code == 200

    revoked = api(PLATFORM_HOST, manager).post(
        f"{GRANTS}{body['id']}/revoke/", {"reason": "done"}, format="json"
    )
    assert revoked.status_code == 200
    assert revoked.json()["status"] == "REVOKED"
    answer = support_on_a.get("/api/subscription/")
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"action": "be_god"}, "action"),
        ({"reason": ""}, "reason"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": 100_000}, "duration_minutes"),
        ({"tenant": "nowhere"}, "tenant"),
        ({"grantee": "not-a-uuid"}, "grantee"),
    ],
)
def test_bad_grants_get_400_with_the_field(api, manager, support, overrides, field):
    response = api(PLATFORM_HOST, manager).post(
        GRANTS, grant_payload(support, **overrides), format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert field in response.json()["error"]["fields"]


def test_nobody_grants_themselves(api, manager):
    response = api(PLATFORM_HOST, manager).post(GRANTS, grant_payload(manager), format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "self_grant"


def test_support_cannot_grant_what_it_does_not_hold(api, support, make_user):
    sales = make_user(Role.PLATFORM_SALES)
    response = api(PLATFORM_HOST, support).post(GRANTS, grant_payload(sales), format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "grantor_lacks_action"


def test_operators_see_only_their_own_grants_and_cannot_revoke_others(
    api, manager, support, make_user
):
    other = make_user(Role.PLATFORM_SUPPORT)
    mine = api(PLATFORM_HOST, manager).post(GRANTS, grant_payload(support), format="json").json()
    api(PLATFORM_HOST, manager).post(GRANTS, grant_payload(other), format="json")

    seen = api(PLATFORM_HOST, support).get(GRANTS).json()["results"]
    assert [g["id"] for g in seen] == [mine["id"]]
    assert len(api(PLATFORM_HOST, manager).get(GRANTS).json()["results"]) == 2

    refused = api(PLATFORM_HOST, support).post(f"{GRANTS}{mine['id']}/revoke/", {}, format="json")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"
    hidden = api(PLATFORM_HOST, other).post(f"{GRANTS}{mine['id']}/revoke/", {}, format="json")
    assert hidden.status_code == 404
    assert hidden.json()["error"]["code"] == "not_found"


def test_tenant_users_cannot_reach_the_grants_api(api, make_user, tenant_a):
    owner = make_user(Role.TENANT_OWNER, tenant_a)
    answer = api(PLATFORM_HOST, owner, issued_on="alpha").get(GRANTS)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "wrong_host"
    answer = api(HOST_A, owner).get(GRANTS)
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


def test_a_grant_used_through_an_either_or_permission_is_audited(
    api, manager, support, tenant_a, settings
):

    api(PLATFORM_HOST, manager).post(GRANTS, grant_payload(support), format="json")
    # /api/charges/ needs view_billing OR book_own: support passes only thanks to the grant.
    assert api(HOST_A, support, issued_on="public").get("/api/charges/").status_code == 200
    lines = [audit_log_record(row) for row in AuditEvent.objects.order_by("id")]
    used = [e for e in lines if e["event"] == "grant_used" and e.get("path") == "/api/charges/"]
    assert used
    assert used[-1]["capability"] == "view_billing"
    assert used[-1]["actor"]["email"] == support.email


@pytest.mark.parametrize("role", [Role.TENANT_OWNER, Role.TENANT_STAFF, Role.CUSTOMER])
def test_permissions_held_by_role_cost_no_grant_query(api, make_user, tenant_a, role):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api(HOST_A, make_user(role, tenant_a))
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/appointments/").status_code == 200
    assert not [q for q in queries.captured_queries if "core_permissiongrant" in q["sql"]]
