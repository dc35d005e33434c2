"""A masquerade lends the operator the user's view, not its power over identities, credentials
and money: those need the operator to hold them on that host itself (role or own grant)."""

from __future__ import annotations

import pytest

from access.models import PermissionGrant
from appointments.tests.conftest import world_a
from conftest import HOST_A, PLATFORM_HOST
from core.models import AuditEvent
from core.tests.test_masquerade_sessions import acquire, hand_off
from plugins.models import PluginInstallation
from plugins.tests.helpers import install
from users.models import User
from users.roles import Role

__all__ = ["world_a"]

pytestmark = pytest.mark.django_db

NEW_OWNER = {"email": "new-owner@example.com", "password": "a-long-enough-pass-9"}


@pytest.fixture
def support(make_user):
    return make_user(Role.PLATFORM_SUPPORT)


@pytest.fixture
def owner(make_user, tenant_a):
    return make_user(Role.TENANT_OWNER, tenant_a)


def masquerade_client(api, operator, target):
    started = api(PLATFORM_HOST, operator).post(
        "/api/masquerade/", {"user": str(target.public_id), "reason": "ticket 5"}, format="json"
    )
    assert started.status_code == 201
    client = api(HOST_A)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {started.json()['access']}")
    return client


def assert_refused(response):
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "masquerade_action_refused"


def test_support_masquerading_as_an_owner_cannot_create_a_lasting_owner(api, support, owner):
    client = masquerade_client(api, support, owner)
    response = client.post("/api/users/", {**NEW_OWNER, "role": "TENANT_OWNER"}, format="json")
    assert_refused(response)
    assert not User.objects.filter(email=NEW_OWNER["email"]).exists()
    refusal = AuditEvent.objects.get(action="masquerade_action_refused")
    assert (refusal.actor, refusal.operator) == (owner, support)
    assert refusal.details["capability"] == "manage_staff"


def test_support_masquerading_as_an_owner_cannot_read_billing(api, support, owner):
    client = masquerade_client(api, support, owner)
    for path in ("/api/subscription/", "/api/charges/", "/api/billing/summary/"):
        assert_refused(client.get(path))


def test_support_masquerading_cannot_touch_credentials_or_domains(api, support, owner, world_a):
    client = masquerade_client(api, support, owner)
    feed = f"/api/resources/{world_a.stylist.public_id}/calendar-feed/"
    assert_refused(client.post(feed))
    assert_refused(client.post("/api/domains/", {"domain": "x.example.com"}, format="json"))
    assert_refused(client.delete("/api/tenant/logo/"))
    assert_refused(client.patch("/api/billing/settings/", {}, format="json"))


def test_support_masquerading_cannot_install_plugins_or_touch_their_secrets(
    api, support, owner, tenant_a
):
    install(tenant_a, "webhooks", actor=owner)
    client = masquerade_client(api, support, owner)
    consent = {"accepted_permissions": ["appointments.read", "customers.email"]}
    assert_refused(client.post("/api/plugins/review-requests/install/", consent, format="json"))
    assert_refused(client.delete("/api/installed-plugins/webhooks/"))
    hook = {"url": "https://93.184.215.14/hook"}
    assert_refused(client.post("/api/webhooks/endpoints/", hook, format="json"))
    assert client.get("/api/installed-plugins/").status_code == 200  # looking is fine
    assert not PluginInstallation.objects.filter(
        tenant=tenant_a, plugin__slug="review-requests"
    ).exists()
    refusal = AuditEvent.objects.filter(action="masquerade_action_refused").order_by("id").first()
    assert refusal.details["capability"] == "install_plugins"


def test_support_masquerading_still_works_on_the_schedule(api, support, owner, world_a):
    client = masquerade_client(api, support, owner)
    assert client.post("/api/customers/", {"name": "Walk-in"}, format="json").status_code == 201
    assert client.get("/api/appointments/").status_code == 200
    capabilities = set(client.get("/api/me/").json()["capabilities"])
    assert {"manage_customers", "manage_schedule"} <= capabilities
    assert not capabilities & {"manage_staff", "view_billing", "manage_calendar_feeds"}


def test_an_own_grant_lets_the_operator_do_it_while_masquerading(
    api, support, owner, make_user, tenant_a
):
    PermissionGrant.create_grant(
        grantor=make_user(Role.SUPERUSER), grantee=support, action="view_billing",
        reason="billing ticket 77", tenant=tenant_a,
    )  # fmt: skip
    client = masquerade_client(api, support, owner)
    assert client.get("/api/subscription/").status_code == 200
    assert AuditEvent.objects.filter(action="grant_used", operator=support).exists()
    assert_refused(client.post("/api/users/", {**NEW_OWNER, "role": "TENANT_STAFF"}, format="json"))


def test_a_superuser_masquerading_may_do_what_it_may_do_anyway(api, make_user, owner):
    superuser = make_user(Role.SUPERUSER)
    client = masquerade_client(api, superuser, owner)
    response = client.post("/api/users/", {**NEW_OWNER, "role": "TENANT_STAFF"}, format="json")
    assert response.status_code == 201
    assert client.get("/api/subscription/").status_code == 200


def test_the_browser_masquerade_is_limited_the_same_way(browser, support, owner):
    response = acquire(browser(PLATFORM_HOST, support), owner, reason="ticket 6")
    client, entered, _ = hand_off(browser, response)
    assert entered.status_code in (200, 302)
    refused = client.post(
        "/api/users/", {**NEW_OWNER, "role": "TENANT_OWNER"}, content_type="application/json"
    )
    assert_refused(refused)
    assert not User.objects.filter(email=NEW_OWNER["email"]).exists()
