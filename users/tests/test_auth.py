"""Credentials are bound to the host they were issued on."""

from datetime import timedelta

import pytest
from rest_framework_simplejwt.tokens import AccessToken

from conftest import HOST_A, HOST_B, PASSWORD, PLATFORM_HOST
from core.audit import audit_log_record
from core.models import AuditEvent
from users.roles import PLATFORM_ROLES, TENANT_ROLES, Role

pytestmark = pytest.mark.django_db


def login(api, host, email, password=PASSWORD):
    return api(host).post("/api/auth/token/", {"email": email, "password": password}, format="json")


@pytest.mark.parametrize("role", sorted(TENANT_ROLES))
def test_tenant_user_logs_in_on_own_host_and_reads_me(api, make_user, tenant_a, role):
    user = make_user(role, tenant_a)
    response = login(api, HOST_A, user.email)
    assert response.status_code == 200
    me = api(HOST_A).get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    assert me.status_code == 200
    assert me.json()["email"] == user.email
    assert me.json()["tenant"] == "alpha"


@pytest.mark.parametrize("role", sorted(TENANT_ROLES))
def test_tenant_user_login_is_refused_on_another_tenants_host(api, make_user, tenant_a, role):
    user = make_user(role, tenant_a)
    response = login(api, HOST_B, user.email)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


@pytest.mark.parametrize("role", sorted(TENANT_ROLES))
def test_tenant_user_login_is_refused_on_the_platform_host(api, make_user, tenant_a, role):
    response = login(api, PLATFORM_HOST, make_user(role, tenant_a).email)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


@pytest.mark.parametrize("role", sorted(TENANT_ROLES))
def test_tenant_a_token_is_refused_on_tenant_b_host(api, make_user, tenant_a, role):
    user = make_user(role, tenant_a)
    response = api(HOST_B, user, issued_on="alpha").get("/api/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "wrong_host"


@pytest.mark.parametrize("role", sorted(TENANT_ROLES))
def test_token_claiming_tenant_b_is_still_refused_for_a_tenant_a_user(
    api, make_user, tenant_a, role
):
    # Even a token naming B (say, forged with a leaked key) cannot make A's user act on B.
    response = api(HOST_B, make_user(role, tenant_a), issued_on="beta").get("/api/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "wrong_host"


def test_tenant_a_session_is_refused_on_tenant_b_host(api, make_user, tenant_a):
    user = make_user(Role.TENANT_OWNER, tenant_a)
    client_a = api(HOST_A)
    assert (
        client_a.post(
            "/api/auth/session/", {"email": user.email, "password": PASSWORD}, format="json"
        ).status_code
        == 200
    )
    assert client_a.get("/api/me/").status_code == 200
    stolen_cookie = client_a.cookies["sessionid"].value
    client_b = api(HOST_B)
    client_b.cookies["sessionid"] = stolen_cookie
    response = client_b.get("/api/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "wrong_host"


def test_session_logout_ends_the_session(api, make_user, tenant_a):
    user = make_user(Role.TENANT_STAFF, tenant_a)
    client = api(HOST_A)
    client.post("/api/auth/session/", {"email": user.email, "password": PASSWORD}, format="json")
    csrf = client.cookies["csrftoken"].value
    assert client.delete("/api/auth/session/", HTTP_X_CSRFTOKEN=csrf).status_code == 204
    ended = client.get("/api/me/")
    assert ended.status_code == 401
    assert ended.json()["error"]["code"] == "not_authenticated"


def test_refresh_token_is_refused_on_another_host(api, make_user, tenant_a):
    user = make_user(Role.TENANT_OWNER, tenant_a)
    refresh = login(api, HOST_A, user.email).json()["refresh"]
    assert (
        api(HOST_A)
        .post("/api/auth/token/refresh/", {"refresh": refresh}, format="json")
        .status_code
        == 200
    )
    other = api(HOST_B).post("/api/auth/token/refresh/", {"refresh": refresh}, format="json")
    assert other.status_code == 401
    # That token was spent on A above; an unspent one is refused on B for the host itself.
    assert other.json()["error"]["code"] == "token_not_valid"
    unspent = login(api, HOST_A, user.email).json()["refresh"]
    on_b = api(HOST_B).post("/api/auth/token/refresh/", {"refresh": unspent}, format="json")
    assert on_b.status_code == 401
    assert on_b.json()["error"]["code"] == "wrong_host"
    # Refused on B, it is not spent: it still works on A.
    on_a = api(HOST_A).post("/api/auth/token/refresh/", {"refresh": unspent}, format="json")
    assert on_a.status_code == 200


def test_expired_token_gets_401(api, make_user, tenant_a):
    user = make_user(Role.TENANT_OWNER, tenant_a)
    token = AccessToken.for_user(user)
    token["tenant"] = "alpha"
    token.set_exp(lifetime=-timedelta(minutes=1))
    response = api(HOST_A).get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"


def test_garbage_token_gets_401(api):
    response = api(HOST_A).get("/api/me/", HTTP_AUTHORIZATION="Bearer not.a.token")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"


def test_wrong_password_gets_401_and_is_logged(api, make_user, tenant_a, settings):
    user = make_user(Role.CUSTOMER, tenant_a)
    refused = login(api, HOST_A, user.email, password="nope-nope")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "authentication_failed"
    events = [audit_log_record(row) for row in AuditEvent.objects.order_by("id")]
    failed = [e for e in events if e["event"] == "login_failed" and e.get("email") == user.email]
    assert failed and failed[-1]["reason"] == "bad_credentials" and failed[-1]["host"] == HOST_A


def test_malformed_json_gets_400(api):
    response = api(HOST_A).post(
        "/api/auth/token/", data="{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_login_with_missing_fields_gets_field_errors(api):
    response = api(HOST_A).post("/api/auth/token/", {"email": "not-an-email"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert set(response.json()["error"]["fields"]) == {"email", "password"}


def test_anonymous_me_gets_401(api):
    anonymous = api(HOST_A).get("/api/me/")
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize("role", sorted(PLATFORM_ROLES))
def test_platform_roles_log_in_on_the_platform_host(api, make_user, role):
    user = make_user(role)
    response = login(api, PLATFORM_HOST, user.email)
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("role", "demo_tenant", "read", "write"),
    [
        (Role.SUPERUSER, False, 200, 201),
        (Role.PLATFORM_MANAGER, False, 200, 201),
        (Role.PLATFORM_SUPPORT, False, 200, 403),
        (Role.PLATFORM_SALES, False, 401, 401),
        (Role.PLATFORM_SALES, True, 200, 403),  # reaches the demo, assigns no roles
    ],
)
def test_platform_token_reaches_tenant_hosts_only_within_scope(
    api, make_user, tenant_a, role, demo_tenant, read, write
):
    if demo_tenant:
        make_user(Role.TENANT_OWNER, tenant_a, is_temporary=True)
    client = api(HOST_A, make_user(role), issued_on="public")
    assert client.get("/api/users/").status_code == read
    created = client.post(
        "/api/users/",
        {"email": "new.staff@example.com", "password": PASSWORD, "role": "TENANT_STAFF"},
        format="json",
    )
    assert created.status_code == write
