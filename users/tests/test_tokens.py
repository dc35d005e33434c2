"""Tokens end when their reason does: a refresh token is good for one refresh, sign-out revokes it,
and a password change ends every token and session of the user."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from conftest import HOST_A, HOST_B, PASSWORD, PLATFORM_HOST
from core.models import AuditEvent
from users.models import User
from users.roles import Role
from users.tasks import flush_expired_tokens

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a-brand-new-passphrase-2026"


@pytest.fixture
def owner(make_user, tenant_a):
    return make_user(Role.TENANT_OWNER, tenant_a)


def sign_in(api, user, host=HOST_A, password=PASSWORD) -> dict:
    response = api(host).post(
        "/api/auth/token/", {"email": user.email, "password": password}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def refresh(api, token, host=HOST_A):
    return api(host).post("/api/auth/token/refresh/", {"refresh": token}, format="json")


def me(api, access, host=HOST_A):
    return api(host).get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {access}")


def change_password(api, access, old=PASSWORD, new=NEW_PASSWORD, host=HOST_A):
    return api(host).post(
        "/api/auth/password/",
        {"old_password": old, "new_password": new},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {access}",
    )


def test_a_refresh_token_is_good_for_one_refresh(api, owner):
    first = sign_in(api, owner)
    rotated = refresh(api, first["refresh"])
    assert rotated.status_code == 200
    second = rotated.json()
    assert second["refresh"] != first["refresh"]
    assert me(api, second["access"]).status_code == 200

    replayed = refresh(api, first["refresh"])
    assert replayed.status_code == 401
    assert replayed.json()["error"]["code"] == "token_not_valid"
    assert refresh(api, second["refresh"]).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_parallel_refreshes_of_one_token_yield_one_new_pair(api, make_user):
    from tenancy.models import Tenant

    user = make_user(Role.TENANT_STAFF, Tenant.objects.get(schema_name="alpha"))
    token = sign_in(api, user)["refresh"]
    start = threading.Barrier(6)
    codes: list[int] = []

    def attempt() -> None:
        client = APIClient(HTTP_HOST=HOST_A)
        start.wait()
        try:
            codes.append(refresh(lambda host: client, token).status_code)
        finally:
            connection.close()  # each thread's own connection

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [200] + [401] * 5


def test_a_rotated_pair_stays_bound_to_its_host(api, owner):
    pair = refresh(api, sign_in(api, owner)["refresh"]).json()
    assert me(api, pair["access"], host=HOST_B).status_code == 401
    assert refresh(api, pair["refresh"], host=HOST_B).status_code == 401
    for response in (
        me(api, pair["access"], host=HOST_B),
        refresh(api, pair["refresh"], host=HOST_B),
    ):
        assert response.json()["error"]["code"] == "wrong_host"


def test_sign_out_revokes_the_refresh_token(api, owner, settings):
    pair = sign_in(api, owner)
    assert (
        api(HOST_A)
        .post("/api/auth/logout/", {"refresh": pair["refresh"]}, format="json")
        .status_code
        == 204
    )
    refused = refresh(api, pair["refresh"])
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "token_not_valid"
    assert "blacklisted" in refused.json()["error"]["message"]


def test_sign_out_needs_a_real_refresh_token(api):
    garbage = api(HOST_A).post("/api/auth/logout/", {"refresh": "not.a.token"}, format="json")
    assert garbage.status_code == 401
    assert garbage.json()["error"]["code"] == "token_not_valid"
    missing = api(HOST_A).post("/api/auth/logout/", {}, format="json")
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "invalid"
    assert set(missing.json()["error"]["fields"]) == {"refresh"}


def test_tokens_issued_before_a_password_change_are_refused(api, owner):
    # However the password changes (here as the admin or a shell would), old tokens die.
    pair = sign_in(api, owner)
    owner.set_password(NEW_PASSWORD)
    owner.save()
    stale = me(api, pair["access"])
    assert stale.status_code == 401
    assert stale.json()["error"]["code"] == "password_changed"
    assert refresh(api, pair["refresh"]).status_code == 401


def test_a_password_change_ends_every_other_token_and_session(api, owner):
    this_device = sign_in(api, owner)
    other_device = sign_in(api, owner)
    browser = Client(HTTP_HOST=HOST_A)
    signed_in = browser.post(
        "/api/auth/session/",
        {"email": owner.email, "password": PASSWORD},
        content_type="application/json",
    )
    assert signed_in.status_code == 200

    changed = change_password(api, this_device["access"])
    assert changed.status_code == 200, changed.content
    renewed = changed.json()

    assert me(api, other_device["access"]).status_code == 401
    assert refresh(api, other_device["refresh"]).status_code == 401
    assert me(api, this_device["access"]).status_code == 401  # replaced by the answer's pair
    assert browser.get("/api/me/").status_code == 401
    assert me(api, other_device["access"]).json()["error"]["code"] == "password_changed"
    assert refresh(api, other_device["refresh"]).json()["error"]["code"] == "password_changed"
    assert me(api, this_device["access"]).json()["error"]["code"] == "password_changed"
    assert browser.get("/api/me/").json()["error"]["code"] == "not_authenticated"
    assert me(api, renewed["access"]).status_code == 200
    assert refresh(api, renewed["refresh"]).status_code == 200
    assert sign_in(api, owner, password=NEW_PASSWORD)["access"]


def test_a_session_caller_keeps_its_session_after_changing_its_password(api, owner):
    browser = Client(HTTP_HOST=HOST_A)
    body = browser.post(
        "/api/auth/session/",
        {"email": owner.email, "password": PASSWORD},
        content_type="application/json",
    ).json()
    other_pair = sign_in(api, owner)
    changed = browser.post(
        "/api/auth/password/",
        {"old_password": PASSWORD, "new_password": NEW_PASSWORD},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=body["csrf_token"],
    )
    assert changed.status_code == 200, changed.content
    assert changed.json() == {"access": None, "refresh": None}
    assert browser.get("/api/me/").status_code == 200
    assert me(api, other_pair["access"]).status_code == 401
    assert me(api, other_pair["access"]).json()["error"]["code"] == "password_changed"


def test_a_password_change_needs_the_current_password(api, owner, settings):
    access = sign_in(api, owner)["access"]
    wrong = change_password(api, access, old="not-my-password")
    assert wrong.status_code == 400
    assert wrong.json()["error"]["code"] == "wrong_password"
    assert set(wrong.json()["error"]["fields"]) == {"old_password"}
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


def test_a_password_change_applies_the_password_validators(api, owner):
    access = sign_in(api, owner)["access"]
    weak = change_password(api, access, new="12345678")
    assert weak.status_code == 400
    assert weak.json()["error"]["code"] == "invalid"
    assert set(weak.json()["error"]["fields"]) == {"new_password"}


def test_wrong_current_passwords_count_towards_the_account_lockout(api, owner, settings):
    settings.LOGIN_LOCKOUT_THRESHOLD = 3
    access = sign_in(api, owner)["access"]
    codes = [change_password(api, access, old=f"guess-{n}").status_code for n in range(4)]
    assert codes == [400, 400, 400, 429]
    assert change_password(api, access).status_code == 429  # the right one waits too


def test_a_password_change_is_audited(api, owner):
    change_password(api, sign_in(api, owner)["access"])
    changed = AuditEvent.objects.filter(action="password_changed").latest("id")
    assert changed.actor_id == changed.target_id == owner.pk


def test_a_password_cannot_be_changed_while_masquerading(api, make_user, owner):
    support = make_user(Role.PLATFORM_SUPPORT)
    started = api(PLATFORM_HOST, support).post(
        "/api/masquerade/", {"user": str(owner.public_id), "reason": "ticket 9"}, format="json"
    )
    refused = change_password(api, started.json()["access"])
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "masquerade_forbidden"
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


def test_a_password_change_ends_the_masquerades_its_user_started(api, make_user, owner):
    support = make_user(Role.PLATFORM_SUPPORT)
    support_access = sign_in(api, support, host=PLATFORM_HOST)["access"]
    started = api(PLATFORM_HOST, support).post(
        "/api/masquerade/", {"user": str(owner.public_id), "reason": "ticket 9"}, format="json"
    )
    masquerade = started.json()["access"]
    assert me(api, masquerade).status_code == 200
    assert change_password(api, support_access, host=PLATFORM_HOST).status_code == 200
    ended = me(api, masquerade)
    assert ended.status_code == 401
    assert ended.json()["error"]["code"] == "masquerade_ended"


def test_token_records_hold_no_usable_token(api, owner):
    pair = sign_in(api, owner)
    refresh(api, pair["refresh"])
    tokens = OutstandingToken.objects.filter(user=owner)
    assert tokens.count() == 2
    assert set(tokens.values_list("token", flat=True)) == {""}


def test_refresh_is_refused_once_the_user_is_deactivated(api, owner):
    pair = sign_in(api, owner)
    User.objects.filter(pk=owner.pk).update(is_active=False)
    assert refresh(api, pair["refresh"]).status_code == 401
    assert refresh(api, pair["refresh"]).json()["error"]["code"] == "user_inactive"


def test_expired_token_records_are_flushed(api, owner):
    sign_in(api, owner)
    OutstandingToken.objects.filter(user=owner).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    live = sign_in(api, owner)
    flush_expired_tokens()
    assert OutstandingToken.objects.filter(user=owner).count() == 1
    assert refresh(api, live["refresh"]).status_code == 200
