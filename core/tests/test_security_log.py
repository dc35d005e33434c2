"""Security events are JSON lines with a UTC timestamp, the actor and the target kept apart."""

import pytest

from conftest import HOST_A, HOST_B, PASSWORD, PLATFORM_HOST
from users.roles import Role

pytestmark = pytest.mark.django_db


def test_every_line_is_json_with_a_utc_timestamp(api, make_user, tenant_a, security_lines):
    user = make_user(Role.TENANT_OWNER, tenant_a)
    api(HOST_A).post("/api/auth/token/", {"email": user.email, "password": PASSWORD}, format="json")
    lines = security_lines()
    assert lines
    for line in lines:
        assert line["timestamp"].endswith("Z")
        assert "event" in line


def test_login_success_and_wrong_host_refusal_are_logged(api, make_user, tenant_a, security_lines):
    user = make_user(Role.TENANT_STAFF, tenant_a)
    api(HOST_A).post("/api/auth/token/", {"email": user.email, "password": PASSWORD}, format="json")
    api(HOST_B).post("/api/auth/token/", {"email": user.email, "password": PASSWORD}, format="json")
    mine = [
        e
        for e in security_lines()
        if e.get("actor", {}).get("email") == user.email or e.get("email") == user.email
    ]
    assert [e["event"] for e in mine][-2:] == ["login_succeeded", "login_failed"]
    assert mine[-1]["reason"] == "wrong_host"
    assert mine[-1]["tenant"] == "beta"


def test_role_change_and_permission_denial_are_logged(api, make_user, tenant_a, security_lines):
    from users.services import user_change_role

    owner = make_user(Role.TENANT_OWNER, tenant_a)
    staff = make_user(Role.TENANT_STAFF, tenant_a)
    user_change_role(actor=owner, user=staff, role=Role.TENANT_MANAGER, tenant=tenant_a)
    changed = [e for e in security_lines() if e["event"] == "role_changed"][-1]
    assert changed["actor"]["email"] == owner.email
    assert changed["target"]["email"] == staff.email
    assert (changed["previous_role"], changed["role"]) == ("TENANT_STAFF", "TENANT_MANAGER")

    customer = make_user(Role.CUSTOMER, tenant_a)
    answer = api(HOST_A, customer).get("/api/users/")
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "permission_denied"
    denied = [e for e in security_lines() if e["event"] == "permission_denied"][-1]
    assert denied["actor"]["email"] == customer.email
    assert denied["capability"] == "view_staff"


def test_support_cannot_write_on_a_tenant_host_and_it_is_logged(
    api, make_user, tenant_a, security_lines
):
    support = make_user(Role.PLATFORM_SUPPORT)
    client = api(HOST_A, support, issued_on="public")
    response = client.post("/api/users/", {"email": "x@example.com"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert security_lines()[-1]["reason"] == "out_of_host_scope"
    assert api(PLATFORM_HOST, support).get("/api/me/").json()["role"] == "PLATFORM_SUPPORT"


def test_admin_sign_ins_and_failures_are_logged(make_user, security_lines):
    from django.test import Client

    operator = make_user(Role.PLATFORM_MANAGER)
    client = Client(HTTP_HOST=PLATFORM_HOST)
    client.post("/admin/login/", {"username": operator.email, "password": "wrong-password"})
    client.post("/admin/login/", {"username": operator.email, "password": PASSWORD})
    mine = [
        e for e in security_lines()
        if e.get("email") == operator.email or e.get("actor", {}).get("email") == operator.email
    ]  # fmt: skip
    assert [(e["event"], e.get("reason"), e.get("credential")) for e in mine] == [
        ("login_failed", "bad_credentials", None),
        ("login_succeeded", None, "session"),
    ]
    assert mine[-1]["path"] == "/admin/login/"


def test_a_masquerade_is_not_logged_as_a_sign_in(api, make_user, tenant_a, security_lines):
    support = make_user(Role.PLATFORM_SUPPORT)
    target = make_user(Role.CUSTOMER, tenant_a)
    response = api(PLATFORM_HOST, support).post(
        "/api/masquerade/", {"user": str(target.public_id), "reason": "ticket 1"}, format="json"
    )
    assert response.status_code == 201
    signed_in = [e for e in security_lines() if e["event"] == "login_succeeded"]
    assert all(e.get("actor", {}).get("email") != target.email for e in signed_in)
