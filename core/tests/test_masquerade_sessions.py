"""The admin (browser session) masquerade: hand-off to the tenant's host, banner, release,
depth 1, expiry, no session fixation, and the audit log that must be written first."""

from __future__ import annotations

import importlib
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from access.masquerade.records import session_fingerprint
from access.models import MasqueradeSession
from conftest import HOST_A, HOST_B, PLATFORM_HOST
from core.models import AuditEvent
from users.roles import Role

pytestmark = pytest.mark.django_db

REQUIRED_FIELDS = {
    "timestamp",
    "action",
    "hijacker_email",
    "hijacked_email",
    "ip_address",
    "session_key",
    "hijacker_role",
    "hijacked_role",
    "tenant",
    "reason",
    "user_agent",
}


@pytest.fixture
def support(make_user):
    return make_user(Role.PLATFORM_SUPPORT)


@pytest.fixture
def owner(make_user, tenant_a):
    return make_user(Role.TENANT_OWNER, tenant_a)


def acquire(client, target, **extra):
    return client.post("/hijack/acquire/", {"user_pk": target.pk, **extra})


def hand_off(browser, response):
    """Follow the admin's redirect to the target host, as a browser would (its own cookies)."""
    location = urlsplit(response["Location"])
    client = browser(location.netloc)
    return client, client.get(f"{location.path}?{location.query}"), location


def test_support_lands_on_the_tenant_host_as_the_owner_with_a_banner(
    browser, support, owner, masquerade_lines
):
    admin = browser(PLATFORM_HOST, support)
    response = acquire(admin, owner, reason="ticket 4711")
    assert response.status_code == 302
    client, entered, location = hand_off(browser, response)
    assert location.netloc == HOST_A and location.path == "/masquerade/enter/"
    assert entered.status_code == 302 and entered["Location"] == "/masquerade/"

    page = client.get("/masquerade/")
    html = page.content.decode()
    assert page.status_code == 200
    assert f"Masquerading as {owner.email}" in html
    assert "data-masquerade-banner" in html and support.email in html
    assert 'action="/hijack/release/"' in html
    assert page["X-Masquerade-Actor"] == support.email
    # The operator's own admin session on the platform host is untouched.
    assert admin.session["_auth_user_id"] == str(support.pk)

    (line,) = masquerade_lines()
    assert line["action"] == "HIJACK_START"
    assert line["reason"] == line["justification"] == "ticket 4711"
    assert line["session_key"] == session_fingerprint(client.session.session_key)
    assert line["tenant"] == "alpha" and line["host"] == HOST_A


def test_release_ends_the_masquerade_and_returns_to_the_admin(
    browser, support, owner, masquerade_lines
):
    client, _, _ = hand_off(browser, acquire(browser(PLATFORM_HOST, support), owner))
    masquerade_key = client.session.session_key
    released = client.post("/hijack/release/")
    assert released.status_code == 302
    assert released["Location"] == f"http://{PLATFORM_HOST}/admin/users/user/"
    answer = client.get("/api/me/")
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "not_authenticated"
    assert [line["action"] for line in masquerade_lines()] == ["HIJACK_START", "HIJACK_END"]
    end = masquerade_lines()[1]
    assert end["reason"] == "released"
    assert end["session_key"] == session_fingerprint(masquerade_key)
    assert MasqueradeSession.objects.get().end_reason == "released"


def test_every_switch_gets_a_new_session_key(browser, make_user, tenant_a, masquerade_lines):
    owner = make_user(Role.TENANT_OWNER, tenant_a)
    staff = make_user(Role.TENANT_STAFF, tenant_a)
    client = browser(HOST_A, owner)
    before = client.session.session_key
    acquire(client, staff)
    during = client.session.session_key
    assert client.session["_auth_user_id"] == str(staff.pk)
    client.post("/hijack/release/")
    after = client.session.session_key
    assert client.session["_auth_user_id"] == str(owner.pk)
    assert len({before, during, after}) == 3


def test_a_second_acquire_while_masquerading_is_refused_and_logged(
    browser, make_user, tenant_a, masquerade_lines
):
    superuser = make_user(Role.SUPERUSER)
    manager = make_user(Role.PLATFORM_MANAGER)
    staff = make_user(Role.TENANT_STAFF, tenant_a)
    client = browser(PLATFORM_HOST, superuser)
    assert acquire(client, manager).status_code == 302
    second = acquire(client, staff)
    assert second.status_code == 403
    assert second.json()["error"]["code"] == "masquerade_denied"
    assert second.json()["error"]["fields"]["reason"] == ["already_masquerading"]
    assert client.session["_auth_user_id"] == str(manager.pk)
    denied = masquerade_lines()[-1]
    assert denied["action"] == "HIJACK_DENIED" and denied["reason"] == "already_masquerading"
    assert (denied["hijacker_email"], denied["hijacked_email"]) == (manager.email, staff.email)


def test_an_owner_reached_by_support_cannot_hijack_its_own_staff(
    browser, support, owner, make_user, tenant_a, masquerade_lines
):
    staff = make_user(Role.TENANT_STAFF, tenant_a)
    client, _, _ = hand_off(browser, acquire(browser(PLATFORM_HOST, support), owner))
    refused = acquire(client, staff)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "masquerade_denied"
    assert masquerade_lines()[-1]["reason"] == "already_masquerading"


def test_a_handoff_ticket_works_once_and_only_on_its_host(
    browser, support, owner, masquerade_lines
):
    response = acquire(browser(PLATFORM_HOST, support), owner)
    location = urlsplit(response["Location"])
    ticket_url = f"{location.path}?{location.query}"
    elsewhere = browser(HOST_B).get(ticket_url)
    assert elsewhere.status_code == 403
    assert elsewhere.json()["error"]["code"] == "masquerade_denied"
    first = browser(HOST_A).get(ticket_url)
    assert first.status_code == 302
    replay = browser(HOST_A).get(ticket_url)
    assert replay.status_code == 403
    assert replay.json()["error"]["code"] == "masquerade_denied"
    actions = [(line["action"], line["reason"]) for line in masquerade_lines()]
    assert actions == [
        ("HIJACK_DENIED", "handoff_ticket_invalid_used_or_expired"),
        ("HIJACK_START", "admin_hijack"),
        ("HIJACK_DENIED", "handoff_ticket_invalid_used_or_expired"),
    ]


def test_an_expired_handoff_ticket_is_refused(
    browser, support, owner, frozen_clock, masquerade_lines
):
    response = acquire(browser(PLATFORM_HOST, support), owner)
    frozen_clock.set(frozen_clock.moment + timedelta(seconds=61))
    _, entered, _ = hand_off(browser, response)
    assert entered.status_code == 403
    assert entered.json()["error"]["code"] == "masquerade_denied"


def test_a_ticket_is_rechecked_against_the_matrix_when_redeemed(
    browser, support, owner, masquerade_lines
):
    response = acquire(browser(PLATFORM_HOST, support), owner)
    owner.is_active = False
    owner.save()
    _, entered, _ = hand_off(browser, response)
    assert entered.status_code == 403
    assert entered.json()["error"]["code"] == "masquerade_denied"
    assert masquerade_lines()[-1]["reason"] == "target_inactive"


def test_a_masquerade_session_ends_by_itself_after_the_limit(
    browser, support, owner, frozen_clock, masquerade_lines, settings
):
    settings.MASQUERADE_MAX_MINUTES = 30
    client, _, _ = hand_off(browser, acquire(browser(PLATFORM_HOST, support), owner))
    frozen_clock.set(frozen_clock.moment + timedelta(minutes=29, seconds=59))
    assert client.get("/api/me/").status_code == 200
    frozen_clock.set(frozen_clock.moment + timedelta(seconds=1))
    answer = client.get("/api/me/")
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "not_authenticated"
    end = masquerade_lines()[-1]
    assert (end["action"], end["reason"]) == ("HIJACK_END", "expired")
    assert MasqueradeSession.objects.get().end_reason == "expired"


def test_writes_while_masquerading_are_attributed_to_both_people(
    browser, support, owner, security_lines
):
    client, _, _ = hand_off(browser, acquire(browser(PLATFORM_HOST, support), owner))
    client.post("/api/users/", {}, content_type="application/json", HTTP_X_CSRFTOKEN="x")
    (write,) = [line for line in security_lines() if line["event"] == "masqueraded_write"]
    assert write["actor"]["email"] == support.email
    assert write["target"]["email"] == owner.email
    assert write["path"] == "/api/users/"


def test_every_masquerade_line_is_json_with_every_required_field(
    browser, support, owner, make_user, masquerade_lines, masquerade_log
):
    superuser = make_user(Role.SUPERUSER)
    acquire(browser(PLATFORM_HOST, support), superuser)  # denied
    client, _, _ = hand_off(browser, acquire(browser(PLATFORM_HOST, support), owner))
    client.post("/hijack/release/")
    raw = masquerade_log.read_text().splitlines()
    assert len(raw) == 3
    for line in masquerade_lines():
        assert line.keys() >= REQUIRED_FIELDS
        assert line["timestamp"].endswith("Z")
        assert line["action"] in {"HIJACK_START", "HIJACK_END", "HIJACK_DENIED"}
        assert line["ip_address"] == "127.0.0.1"


def test_an_unwritable_audit_log_refuses_the_masquerade(
    browser, make_user, tenant_a, settings, tmp_path
):
    settings.MASQUERADE_LOG_FILE = tmp_path / "missing-directory" / "masquerade.log"
    owner = make_user(Role.TENANT_OWNER, tenant_a)
    staff = make_user(Role.TENANT_STAFF, tenant_a)
    client = browser(HOST_A, owner)
    before = client.session.session_key
    refused = acquire(client, staff)
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "audit_unavailable"
    assert "audit log cannot be written" in refused.json()["error"]["message"]
    assert client.session.session_key == before
    assert client.session["_auth_user_id"] == str(owner.pk)
    assert not MasqueradeSession.objects.exists()


def test_an_unwritable_audit_log_refuses_the_handoff(browser, support, owner, settings, tmp_path):
    response = acquire(browser(PLATFORM_HOST, support), owner)
    settings.MASQUERADE_LOG_FILE = tmp_path / "missing-directory" / "masquerade.log"
    client, entered, _ = hand_off(browser, response)
    assert entered.status_code == 503
    assert "_auth_user_id" not in client.session
    assert MasqueradeSession.objects.get().end_reason == "audit_unavailable"


def test_the_masquerade_log_rotates_by_size(settings, masquerade_log):
    from access.masquerade.records import HIJACK_DENIED, masquerade_line

    settings.MASQUERADE_LOG_MAX_BYTES = 600
    settings.MASQUERADE_LOG_BACKUP_COUNT = 2
    for n in range(10):
        masquerade_line(
            HIJACK_DENIED, request=None, hijacker=None, hijacked=None, reason=f"n{n}", channel="API"
        )
    rotated = sorted(p.name for p in masquerade_log.parent.glob("masquerade.log*"))
    assert rotated == [
        "masquerade.log",
        "masquerade.log.1",
        "masquerade.log.2",
        "masquerade.log.lock",
    ]
    assert masquerade_log.stat().st_size <= 600


def test_release_without_a_masquerade_is_refused(browser, support):
    refused = browser(PLATFORM_HOST, support).post("/hijack/release/")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"


def test_anonymous_acquire_is_refused(browser, owner):
    refused = browser(PLATFORM_HOST).post("/hijack/acquire/", {"user_pk": owner.pk})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"


def test_admin_hijack_of_a_platform_user_happens_in_place_and_release_restores(
    browser, make_user, masquerade_lines
):
    superuser = make_user(Role.SUPERUSER)
    manager = make_user(Role.PLATFORM_MANAGER)
    client = browser(PLATFORM_HOST, superuser)
    response = acquire(client, manager)
    assert response["Location"] == "/admin/"
    assert client.session["_auth_user_id"] == str(manager.pk)
    admin_page = client.get("/admin/")
    assert "data-masquerade-banner" in admin_page.content.decode()
    released = client.post("/hijack/release/")
    assert released["Location"] == f"http://{PLATFORM_HOST}/admin/users/user/"
    assert client.session["_auth_user_id"] == str(superuser.pk)


def test_the_handoff_keeps_the_port(browser, support, owner):
    client = browser(f"{PLATFORM_HOST}:8000", support)
    response = acquire(client, owner)
    location = urlsplit(response["Location"])
    assert location.netloc == f"{HOST_A}:8000"
    assert parse_qs(location.query)["ticket"]


def test_middleware_order_follows_the_seed(settings):
    from django.utils.module_loading import import_string
    from django_tenants.middleware.main import TenantMainMiddleware

    stack = settings.MIDDLEWARE
    assert issubclass(import_string(stack[0]), TenantMainMiddleware)
    hijack = stack.index("hijack.middleware.HijackUserMiddleware")
    assert stack.index("access.masquerade.middleware.MasqueradeAuditMiddleware") == hijack + 1
    assert stack.index("django.contrib.auth.middleware.AuthenticationMiddleware") < hijack


def test_acquire_without_a_target_is_a_json_400(browser, support):
    response = browser(PLATFORM_HOST, support).post("/hijack/acquire/", {})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_acquire_of_an_unknown_user_is_refused_and_logged(browser, support, masquerade_lines):
    response = browser(PLATFORM_HOST, support).post("/hijack/acquire/", {"user_pk": "999999999"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "masquerade_denied"
    assert masquerade_lines()[0]["reason"] == "no_such_user"


def test_no_value_from_the_log_the_admin_or_the_database_opens_the_masquerade_session(
    browser, support, owner, make_user, masquerade_log
):
    client, _, _ = hand_off(browser, acquire(browser(PLATFORM_HOST, support), owner))
    live_key = client.session.session_key
    record = MasqueradeSession.objects.get()
    (started,) = AuditEvent.objects.filter(action="HIJACK_START")
    admin = browser(PLATFORM_HOST, make_user(Role.SUPERUSER))
    pages = (
        admin.get("/admin/core/masqueradesession/").content.decode()
        + admin.get(f"/admin/core/masqueradesession/{record.pk}/change/").content.decode()
        + admin.get(f"/admin/core/auditevent/{started.pk}/change/").content.decode()
    )
    stored = [str(value) for value in MasqueradeSession.objects.values().get().values()]
    stored += [str(value) for value in started.details.values()]
    logged = masquerade_log.read_text()
    for place, text in [("log", logged), ("admin", pages), ("database", " ".join(stored))]:
        assert live_key not in text, f"the live session key is in the {place}"

    def opens(value: str) -> bool:
        thief = browser(HOST_A)
        thief.cookies["sessionid"] = value
        return thief.get("/api/me/").status_code == 200

    assert opens(live_key)  # the cookie route works: only what is stored must not
    candidates = {line_value for line_value in stored if line_value}
    candidates |= set(re.findall(r"[0-9A-Za-z_-]{20,}", logged + pages))
    assert session_fingerprint(live_key) in candidates
    assert [value for value in candidates if opens(value)] == []


def test_a_refused_masquerade_does_not_log_the_operators_own_session_key(
    browser, support, make_user, masquerade_log, masquerade_lines
):
    client = browser(PLATFORM_HOST, support)
    refused = acquire(client, make_user(Role.SUPERUSER))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "masquerade_denied"
    own_key = client.session.session_key
    assert own_key not in masquerade_log.read_text()
    assert masquerade_lines()[-1]["session_key"] == session_fingerprint(own_key)


def test_the_data_migration_turns_stored_session_keys_into_fingerprints(support, owner):
    from django.apps import apps

    migration = importlib.import_module(
        "core.migrations.0006_fingerprint_stored_masquerade_session_keys"
    )
    now = timezone.now()
    raw, already, empty = (
        MasqueradeSession.objects.create(
            hijacker=support,
            hijacked=owner,
            channel="ADMIN",
            started_at=now,
            expires_at=now + timedelta(minutes=30),
            session_digest=value,
        )
        for value in ("k3yk3yk3yk3yk3yk3yk3yk3yk3yk3yk3", session_fingerprint("other"), "")
    )
    migration.fingerprint_stored_keys(apps, None)
    migration.fingerprint_stored_keys(apps, None)  # a second run changes nothing
    for record, expected in [
        (raw, session_fingerprint("k3yk3yk3yk3yk3yk3yk3yk3yk3yk3yk3")),
        (already, session_fingerprint("other")),
        (empty, ""),
    ]:
        record.refresh_from_db()
        assert record.session_digest == expected
