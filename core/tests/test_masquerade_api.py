"""The headless masquerade: /api/masquerade/ hands out a short-lived token for the target,
bound to the target's host, naming the real actor (``act``), that dies with the masquerade."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rest_framework_simplejwt.tokens import AccessToken

from access.masquerade.records import session_fingerprint
from access.models import MasqueradeSession
from conftest import HOST_A, HOST_B, PLATFORM_HOST
from users.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def support(make_user):
    return make_user(Role.PLATFORM_SUPPORT)


@pytest.fixture
def owner(make_user, tenant_a):
    return make_user(Role.TENANT_OWNER, tenant_a)


def start(client, target, reason="customer asked for help (ticket 12)"):
    return client.post(
        "/api/masquerade/", {"user": str(target.public_id), "reason": reason}, format="json"
    )


def as_token(api, host, raw):
    client = api(host)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_support_starts_uses_and_ends_a_masquerade(api, support, owner, masquerade_lines):
    started = start(api(PLATFORM_HOST, support), owner)
    assert started.status_code == 201, started.content
    body = started.json()
    assert body["host"] == HOST_A
    assert body["masquerade"]["actor"]["email"] == support.email
    assert body["masquerade"]["target"]["email"] == owner.email
    assert "refresh" not in body

    claims = AccessToken(body["access"])
    assert claims["tenant"] == "alpha"
    assert claims["act"] == {
        "sub": str(support.public_id),
        "email": support.email,
        "role": Role.PLATFORM_SUPPORT,
    }
    assert claims["exp"] - claims["iat"] <= 30 * 60

    on_a = as_token(api, HOST_A, body["access"])
    me = on_a.get("/api/me/")
    assert me.status_code == 200
    assert me.json()["email"] == owner.email
    assert me.json()["masquerade"]["actor"] == {
        "id": str(support.public_id),
        "email": support.email,
        "role": Role.PLATFORM_SUPPORT,
    }
    assert me["X-Masquerade-Actor"] == support.email

    assert on_a.delete("/api/masquerade/").status_code == 204
    after = on_a.get("/api/me/")
    assert after.status_code == 401
    assert after.json()["error"]["code"] == "masquerade_ended"

    start_line, end_line = masquerade_lines()
    assert start_line["action"] == "HIJACK_START"
    assert start_line["reason"] == "customer asked for help (ticket 12)"
    assert start_line["session_key"] == session_fingerprint(claims["jti"]) != claims["jti"]
    assert start_line["channel"] == "API"
    assert (end_line["action"], end_line["reason"]) == ("HIJACK_END", "ended_by_api")


def test_end_by_post_works_too(api, support, owner):
    token = start(api(PLATFORM_HOST, support), owner).json()["access"]
    assert as_token(api, HOST_A, token).post("/api/masquerade/end/").status_code == 204
    assert MasqueradeSession.objects.get().end_reason == "ended_by_api"


def test_the_masquerade_token_is_worthless_on_another_tenants_host(api, support, owner):
    token = start(api(PLATFORM_HOST, support), owner).json()["access"]
    response = as_token(api, HOST_B, token).get("/api/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "wrong_host"


def test_a_masquerade_token_cannot_start_another_masquerade(
    api, make_user, tenant_a, support, owner, masquerade_lines
):
    staff = make_user(Role.TENANT_STAFF, tenant_a)
    token = start(api(PLATFORM_HOST, support), owner).json()["access"]
    second = start(as_token(api, HOST_A, token), staff)
    assert second.status_code == 403
    assert second.json()["error"]["code"] == "masquerade_denied"
    assert second.json()["error"]["fields"]["reason"] == ["already_masquerading"]
    denied = masquerade_lines()[-1]
    assert denied["action"] == "HIJACK_DENIED"
    assert (denied["hijacker_email"], denied["hijacked_email"]) == (owner.email, staff.email)


@pytest.mark.parametrize(
    ("hijacker_role", "target_role", "reason"),
    [
        (Role.PLATFORM_SUPPORT, Role.SUPERUSER, "target_is_superuser"),
        (Role.PLATFORM_SUPPORT, Role.PLATFORM_MANAGER, "role_may_not_masquerade_as_target"),
        (Role.PLATFORM_SALES, Role.TENANT_OWNER, "role_may_not_masquerade_as_target"),
        (Role.PLATFORM_MANAGER, Role.CUSTOMER, "role_may_not_masquerade_as_target"),
    ],
)
def test_refused_api_masquerades_are_logged_with_their_reason(
    api, make_user, tenant_a, masquerade_lines, hijacker_role, target_role, reason
):
    hijacker = make_user(hijacker_role)
    target = make_user(
        target_role, tenant_a if target_role.startswith(("TENANT", "CUST")) else None
    )
    response = start(api(PLATFORM_HOST, hijacker), target)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "masquerade_denied"
    (line,) = masquerade_lines()
    assert (line["action"], line["reason"]) == ("HIJACK_DENIED", reason)
    assert line["justification"] == "customer asked for help (ticket 12)"
    assert not MasqueradeSession.objects.exists()


def test_a_reason_is_required(api, support, owner, masquerade_lines):
    response = start(api(PLATFORM_HOST, support), owner, reason="")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert "reason" in response.json()["error"]["fields"]
    assert masquerade_lines() == []


def test_an_unknown_target_is_refused_and_logged(api, support, masquerade_lines):
    response = api(PLATFORM_HOST, support).post(
        "/api/masquerade/",
        {"user": "00000000-0000-0000-0000-000000000000", "reason": "x"},
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "masquerade_denied"
    assert masquerade_lines()[0]["reason"] == "no_such_user"


def test_an_owner_masquerades_as_its_staff_on_its_own_host(api, make_user, tenant_a, owner):
    staff = make_user(Role.TENANT_STAFF, tenant_a)
    started = start(api(HOST_A, owner), staff)
    assert started.status_code == 201
    me = as_token(api, HOST_A, started.json()["access"]).get("/api/me/")
    assert me.json()["email"] == staff.email
    assert me.json()["masquerade"]["actor"]["email"] == owner.email


def test_the_token_dies_when_the_masquerade_expires(api, support, owner, frozen_clock):
    token = start(api(PLATFORM_HOST, support), owner).json()["access"]
    frozen_clock.set(frozen_clock.moment + timedelta(minutes=30))
    response = as_token(api, HOST_A, token).get("/api/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "masquerade_ended"


def test_the_token_dies_when_the_real_actor_is_deactivated(api, support, owner):
    token = start(api(PLATFORM_HOST, support), owner).json()["access"]
    support.is_active = False
    support.save()
    answer = as_token(api, HOST_A, token).get("/api/me/")
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "masquerade_ended"


def test_a_forged_act_claim_without_a_masquerade_is_refused(api, support, owner):
    token = AccessToken.for_user(owner)
    token["tenant"] = "alpha"
    token["act"] = {"sub": str(support.public_id), "email": support.email, "role": support.role}
    response = as_token(api, HOST_A, str(token)).get("/api/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "masquerade_ended"


def test_an_unwritable_audit_log_refuses_the_api_masquerade(
    api, support, owner, settings, tmp_path
):
    settings.MASQUERADE_LOG_FILE = tmp_path / "no-such-dir" / "masquerade.log"
    response = start(api(PLATFORM_HOST, support), owner)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "audit_unavailable"
    assert "access" not in response.json()
    assert not MasqueradeSession.objects.exists()


def test_api_writes_while_masquerading_name_both_people(
    api, support, make_user, tenant_a, security_lines
):
    owner = make_user(Role.TENANT_OWNER, tenant_a)
    token = start(api(PLATFORM_HOST, support), owner).json()["access"]
    created = as_token(api, HOST_A, token).post(
        "/api/customers/", {"name": "Walk-in", "email": "walk-in@example.com"}, format="json"
    )
    assert created.status_code == 201
    lines = security_lines()
    (write,) = [line for line in lines if line["event"] == "masqueraded_write"]
    assert (write["actor"]["email"], write["target"]["email"]) == (support.email, owner.email)
    assert write["status_code"] == 201
    (customer_created,) = [line for line in lines if line["event"] == "customer_created"]
    assert customer_created["actor"]["email"] == owner.email
    assert customer_created["masquerade"]["actor"]["email"] == support.email


def test_me_says_not_masquerading_normally(api, owner):
    me = api(HOST_A, owner).get("/api/me/")
    assert me.json()["masquerade"] is None
    assert "X-Masquerade-Actor" not in me
