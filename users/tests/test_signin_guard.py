"""The sign-in guard: the address it counts is the one the trusted proxy saw, each account backs
off after failures whatever the address, and the admin's login goes through the same check."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import uuid

import pytest
from django.test import Client, RequestFactory

from conftest import HOST_A, PASSWORD, PLATFORM_HOST
from core.audit import audit_log_record, client_ip
from core.checks import proxy_count_matches_the_proxy
from core.models import AuditEvent
from users.roles import Role
from users.signin import (
    Attempt,
    SignInThrottled,
    signin_attempt_begin,
    signin_attempt_succeeded,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def guard(settings):
    """A small limit and a short lock, the rules otherwise as deployed."""
    settings.LOGIN_THROTTLE_RATE = "3/min"
    settings.LOGIN_LOCKOUT_THRESHOLD = 3
    settings.LOGIN_LOCKOUT_SECONDS = 60
    settings.LOGIN_LOCKOUT_MAX_SECONDS = 900
    return settings


def redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


def sign_in(api, email, password, host=HOST_A, **meta):
    return api(host).post(
        "/api/auth/token/", {"email": email, "password": password}, format="json", **meta
    )


def address(n: int) -> dict[str, str]:
    """A distinct client address per attempt (TEST-NET-3), so only the account counts."""
    return {"REMOTE_ADDR": f"203.0.113.{n}"}


def security_events(name):
    """The recorded events called ``name``, as their security.log lines (the test's transaction
    never commits, so the log itself never gets them)."""
    return [audit_log_record(row) for row in AuditEvent.objects.filter(action=name).order_by("id")]


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        (0, "198.51.100.1", "", "198.51.100.1"),
        (0, "198.51.100.1", "1.2.3.4", "198.51.100.1"),  # nobody is trusted to say otherwise
        (1, "10.0.0.2", "1.2.3.4, 203.0.113.9", "203.0.113.9"),  # the proxy appended the peer
        (2, "10.0.0.2", "1.2.3.4, 203.0.113.9, 10.0.0.7", "203.0.113.9"),
        (2, "10.0.0.2", "203.0.113.9", "10.0.0.2"),  # fewer hops than proxies: not through them
        (1, "10.0.0.2", "", "10.0.0.2"),
        (1, "10.0.0.2", "1.2.3.4, not-an-address", "10.0.0.2"),
        (1, "10.0.0.2", "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_address_is_the_one_the_trusted_proxies_saw(
    settings, proxies, remote, forwarded, expected
):
    settings.TRUSTED_PROXY_COUNT = proxies
    meta = {"REMOTE_ADDR": remote}
    if forwarded:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    assert client_ip(RequestFactory().get("/", **meta)) == expected


def test_a_new_forwarded_for_header_per_attempt_does_not_escape_the_address_limit(api, guard):
    codes = [
        sign_in(
            api, f"nobody{n}@example.com", "wrong", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}"
        ).status_code
        for n in range(5)
    ]
    assert codes == [401, 401, 401, 429, 429]


def test_behind_a_trusted_proxy_only_the_address_it_appended_counts(api, guard):
    guard.TRUSTED_PROXY_COUNT = 1

    def attempt(spoofed: str, real: str) -> int:
        forwarded = f"{spoofed}, {real}"
        email = f"{uuid.uuid4().hex}@example.com"  # only the address budget is in play
        return sign_in(api, email, "wrong", HTTP_X_FORWARDED_FOR=forwarded).status_code

    assert [attempt(f"192.0.2.{n}", "203.0.113.50") for n in range(4)] == [401, 401, 401, 429]
    assert attempt("192.0.2.99", "203.0.113.51") == 401  # another client has its own budget


def test_ipv6_clients_are_counted_per_64(api, guard):
    codes = [
        sign_in(api, f"x{n}@example.com", "wrong", REMOTE_ADDR=f"2001:db8:1:2::{n:x}").status_code
        for n in range(1, 5)
    ]
    assert codes == [401, 401, 401, 429]
    assert sign_in(api, "y@example.com", "wrong", REMOTE_ADDR="2001:db8:1:3::1").status_code == 401


def test_the_throttled_answer_is_json_with_retry_after(api, guard):
    for n in range(3):
        sign_in(api, f"nobody{n}@example.com", "wrong")
    response = sign_in(api, "nobody@example.com", "wrong")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert 1 <= int(response["Retry-After"]) <= 60


@pytest.mark.parametrize("account_exists", [True, False])
def test_an_account_locks_after_repeated_failures_from_any_address(
    api, make_user, tenant_a, guard, account_exists
):
    email = make_user(Role.CUSTOMER, tenant_a).email if account_exists else "ghost@example.com"
    assert [sign_in(api, email, "wrong", **address(n)).status_code for n in range(3)] == [401] * 3

    right = sign_in(api, email, PASSWORD, **address(10))
    wrong = sign_in(api, email, "wrong", **address(11))
    # Locked: the right password is refused too, with exactly the answer a wrong one gets.
    assert right.status_code == wrong.status_code == 429
    assert right.json() == wrong.json()
    assert right.json()["error"]["code"] == "sign_in_locked"
    assert 55 <= int(right["Retry-After"]) <= 60


def test_a_lockout_is_audited_once_with_the_account_and_the_count(
    api, make_user, tenant_a, guard, settings
):
    user = make_user(Role.TENANT_STAFF, tenant_a)
    for n in range(5):
        sign_in(api, user.email, "wrong", **address(n))
    locked = [e for e in security_events("login_locked_out") if e["email"] == user.email]
    assert len(locked) == 1
    assert (locked[0]["failures"], locked[0]["locked_seconds"]) == (3, 60)
    assert locked[0]["ip_address"] == "203.0.113.2"


def test_the_lock_ends_and_grows_with_each_further_failure(api, make_user, tenant_a, guard):
    guard.LOGIN_LOCKOUT_THRESHOLD = 2
    guard.LOGIN_LOCKOUT_SECONDS = 1
    user = make_user(Role.CUSTOMER, tenant_a)
    assert [sign_in(api, user.email, "wrong", **address(n)).status_code for n in range(2)] == [
        401,
        401,
    ]
    first = sign_in(api, user.email, "wrong", **address(2))
    assert (first.status_code, first["Retry-After"]) == (429, "1")
    time.sleep(1.05)
    ended = sign_in(api, user.email, "wrong", **address(3))
    assert ended.status_code == 401  # the lock ended
    assert ended.json()["error"]["code"] == "authentication_failed"
    second = sign_in(api, user.email, PASSWORD, **address(4))
    assert (second.status_code, second["Retry-After"]) == (429, "2")  # twice as long


def test_a_successful_sign_in_forgets_the_failures(api, make_user, tenant_a, guard):
    user = make_user(Role.CUSTOMER, tenant_a)
    for n in range(2):
        wrong = sign_in(api, user.email, "wrong", **address(n))
        assert wrong.status_code == 401
        assert wrong.json()["error"]["code"] == "authentication_failed"
    assert sign_in(api, user.email, PASSWORD, **address(2)).status_code == 200
    for n in range(3, 5):
        wrong = sign_in(api, user.email, "wrong", **address(n))
        assert wrong.status_code == 401
        assert wrong.json()["error"]["code"] == "authentication_failed"
    assert sign_in(api, user.email, PASSWORD, **address(5)).status_code == 200


def test_a_right_password_on_the_wrong_host_counts_as_a_failure(api, make_user, tenant_a, guard):
    # Otherwise the lockout would tell which password was right: it never comes for that one.
    user = make_user(Role.TENANT_OWNER, tenant_a)
    for n in range(3):
        refused = sign_in(api, user.email, PASSWORD, host=PLATFORM_HOST, **address(n))
        assert refused.status_code == 401
        # The same answer as a wrong password's: nothing tells the password was right.
        assert refused.json()["error"]["code"] == "authentication_failed"
    assert sign_in(api, user.email, PASSWORD, **address(9)).status_code == 429


@pytest.mark.parametrize("backend", ["locmem", "redis"])
def test_parallel_attempts_cannot_pass_the_threshold(settings, guard, backend):
    if backend == "redis":
        if not redis_answers():
            pytest.skip("no Redis on 127.0.0.1:6379 (make test starts one)")
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": "redis://127.0.0.1:6379/0",
                # Redis is shared by every test process: keys of this test's own.
                "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
            }
        }
    guard.LOGIN_THROTTLE_RATE = "1000/min"
    email = f"{uuid.uuid4().hex}@example.com"
    admitted: list[Attempt] = []
    start = threading.Barrier(12)
    request = RequestFactory().post("/", REMOTE_ADDR="203.0.113.1")

    def attempt() -> None:
        start.wait()
        with contextlib.suppress(SignInThrottled):
            admitted.append(signin_attempt_begin(request=request, email=email))

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Nobody succeeded, so exactly the threshold of attempts had their password looked at (the
    # last of them is whichever took the lock first).
    assert len(admitted) == 3
    signin_attempt_succeeded(attempt=admitted[0])  # leave nothing behind in a shared Redis


def admin_login(client: Client, email: str, password: str, n: int):
    return client.post(
        "/admin/login/", {"username": email, "password": password}, REMOTE_ADDR=f"203.0.113.{n}"
    )


def test_the_admin_login_is_locked_by_the_same_guard(make_user, guard, api):
    operator = make_user(Role.PLATFORM_MANAGER)
    client = Client(HTTP_HOST=PLATFORM_HOST)
    for n in range(3):
        assert admin_login(client, operator.email, "wrong", n).status_code == 200
    refused = admin_login(client, operator.email, PASSWORD, 10)
    assert refused.status_code == 429  # the form again, with the reason
    assert int(refused["Retry-After"]) > 0
    assert "Too many failed sign-ins for this account" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    # One account, one run of failures: the API door is locked as well.
    assert (
        sign_in(api, operator.email, PASSWORD, host=PLATFORM_HOST, **address(11)).status_code == 429
    )


def test_the_admin_login_counts_against_the_address_limit(make_user, guard, api):
    operator = make_user(Role.SUPERUSER)
    client = Client(HTTP_HOST=PLATFORM_HOST)
    for n in range(3):
        client.post(
            "/admin/login/",
            {"username": f"guess{n}@example.com", "password": "wrong"},
            REMOTE_ADDR="198.51.100.7",
        )
    refused = client.post(
        "/admin/login/",
        {"username": operator.email, "password": PASSWORD},
        REMOTE_ADDR="198.51.100.7",
    )
    assert refused.status_code == 429
    assert "Too many sign-in attempts from your address" in refused.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_admin_login_still_signs_in(make_user, guard):
    operator = make_user(Role.PLATFORM_SUPPORT)
    client = Client(HTTP_HOST=PLATFORM_HOST)
    response = admin_login(client, operator.email, PASSWORD, 1)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(operator.pk)


def test_the_admin_login_refuses_tenant_users(make_user, tenant_a, guard):
    owner = make_user(Role.TENANT_OWNER, tenant_a)
    client = Client(HTTP_HOST=PLATFORM_HOST)
    response = admin_login(client, owner.email, PASSWORD, 1)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_the_deploy_check_warns_when_a_proxy_is_trusted_but_not_counted(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.TRUSTED_PROXY_COUNT = 0
    assert [w.id for w in proxy_count_matches_the_proxy()] == ["core.W011"]
    settings.TRUSTED_PROXY_COUNT = 1
    assert proxy_count_matches_the_proxy() == []
