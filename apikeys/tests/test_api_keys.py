"""API keys: shown once and stored hashed, bound to their tenant's hosts, dead at once when
revoked or expired, never more than their scopes nor their creator's role, audited."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apikeys.models import APIKey
from apikeys.services import api_key_create
from appointments.tests.conftest import world_a
from conftest import HOST_A, HOST_B, PLATFORM_HOST
from core.models import AuditEvent
from core.tests.test_masquerade_limits import assert_refused, masquerade_client
from users.roles import Role

__all__ = ["world_a"]

pytestmark = pytest.mark.django_db


def key_client(host: str, secret: str, scheme: str = "Api-Key") -> APIClient:
    client = APIClient(HTTP_HOST=host)
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {secret}")
    return client


def issue(world, *scopes: str, actor=None, **fields) -> str:
    return api_key_create(
        tenant=world.tenant, actor=actor or world.owner, name="Site", scopes=list(scopes), **fields
    ).secret


def test_an_owner_creates_a_key_shown_once_and_stored_as_a_hash(api, world_a):
    owner = api(HOST_A, world_a.owner)
    created = owner.post(
        "/api/keys/", {"name": "Booking site", "scopes": ["customers:read"]}, format="json"
    )
    assert created.status_code == 201, created.content
    body = created.json()
    secret = body["key"]
    assert secret.startswith(body["prefix"] + "_") and body["prefix"].startswith("sk_")
    row = APIKey.objects.get(public_id=body["id"])
    assert row.secret_sha256 == hashlib.sha256(secret.split("_", 2)[2].encode()).hexdigest()
    assert secret not in str(list(APIKey.objects.filter(pk=row.pk).values()))

    listed = owner.get("/api/keys/").json()["results"]
    assert [k["prefix"] for k in listed] == [body["prefix"]]
    assert "key" not in listed[0] and secret not in str(owner.get(f"/api/keys/{row.public_id}/"))
    event = AuditEvent.objects.get(action="api_key_created")
    assert (event.actor, event.object_id) == (world_a.owner, str(row.public_id))

    response = key_client(HOST_A, secret).get("/api/customers/")
    assert response.status_code == 200, response.content
    assert {c["name"] for c in response.json()["results"]} >= {"Cara Customer"}


def test_a_key_is_also_accepted_as_a_bearer_token(world_a):
    secret = issue(world_a, "customers:read")
    assert key_client(HOST_A, secret, scheme="Bearer").get("/api/customers/").status_code == 200


@pytest.mark.parametrize(
    ("host", "path"), [(HOST_B, "/api/customers/"), (PLATFORM_HOST, "/api/platform/tenants/")]
)
def test_a_key_is_dead_on_another_tenants_host_and_on_the_platform_host(
    world_a, tenant_b, host, path
):
    secret = issue(world_a, "customers:read", "appointments:read")
    response = key_client(host, secret).get(path)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "wrong_host"
    refusal = AuditEvent.objects.get(action="credential_refused_on_host")
    assert refusal.details["credential"] == "api_key"


def test_a_revoked_key_is_dead_at_once(api, world_a):
    secret = issue(world_a, "customers:read")
    client = key_client(HOST_A, secret)
    assert client.get("/api/customers/").status_code == 200
    key = APIKey.objects.get(tenant=world_a.tenant)
    revoked = api(HOST_A, world_a.owner).post(f"/api/keys/{key.public_id}/revoke/")
    assert revoked.status_code == 200 and revoked.json()["is_active"] is False
    response = client.get("/api/customers/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    assert AuditEvent.objects.filter(action="api_key_revoked").count() == 1
    # Revoking again changes nothing and records nothing.
    assert api(HOST_A, world_a.owner).post(f"/api/keys/{key.public_id}/revoke/").status_code == 200
    assert AuditEvent.objects.filter(action="api_key_revoked").count() == 1


def test_an_expired_key_is_dead(world_a):
    secret = issue(world_a, "customers:read", expires_at=timezone.now() + timedelta(minutes=5))
    APIKey.objects.filter(tenant=world_a.tenant).update(
        created_at=timezone.now() - timedelta(days=2), expires_at=timezone.now()
    )
    assert key_client(HOST_A, secret).get("/api/customers/").status_code == 401


@pytest.mark.parametrize(
    "mangle",
    [
        lambda s: s[:-1] + ("A" if s[-1] != "A" else "B"),  # wrong secret, right prefix
        lambda s: "sk_000000000000_" + s.split("_", 2)[2],  # unknown prefix
        lambda s: s[:20],  # malformed
    ],
)
def test_a_wrong_key_is_refused(world_a, mangle):
    secret = issue(world_a, "customers:read")
    response = key_client(HOST_A, mangle(secret)).get("/api/customers/")
    assert response.status_code == 401


def test_a_key_does_only_what_its_scopes_allow(world_a):
    client = key_client(HOST_A, issue(world_a, "customers:read"))
    assert client.get("/api/customers/").status_code == 200
    assert client.get("/api/appointments/").status_code == 403
    assert client.get("/api/billing/summary/").status_code == 403
    created = client.post("/api/customers/", {"name": "Via key"}, format="json")
    assert created.status_code == 403


def test_a_read_scope_never_writes_even_where_reading_would_let_staff_write(world_a):
    # The owner works as a stylist: staff may change appointments on their own resource, and
    # appointments:read lends view_schedule, but only to reads.
    world_a.stylist2.user = world_a.owner
    world_a.stylist2.save(update_fields=["user"])
    client = key_client(HOST_A, issue(world_a, "appointments:read"))
    appointment = world_a.other_appointment
    assert client.get(f"/api/appointments/{appointment.public_id}/").status_code == 200
    response = client.post(f"/api/appointments/{appointment.public_id}/cancel/", {}, format="json")
    assert response.status_code == 403
    appointment.refresh_from_db()
    assert appointment.status != "CANCELLED"


def test_a_write_scope_writes(world_a):
    client = key_client(HOST_A, issue(world_a, "customers:write"))
    created = client.post("/api/customers/", {"name": "Via key"}, format="json")
    assert created.status_code == 201, created.content


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/me/"),
        ("get", "/api/keys/"),
        ("post", "/api/keys/"),
        ("post", "/api/masquerade/"),
        ("post", "/api/auth/password/"),
        ("get", "/api/plugins/"),
    ],
)
def test_a_key_is_refused_where_no_capability_is_checked_or_by_keys_themselves(
    world_a, method, path
):
    every_scope = ["appointments:write", "customers:write", "billing:write", "services:write"]
    client = key_client(HOST_A, issue(world_a, *every_scope))
    response = getattr(client, method)(path, {}, format="json")
    assert response.status_code == 403, (path, response.content)


def test_a_key_never_exceeds_its_creators_current_role(world_a):
    secret = issue(world_a, "customers:write", "billing:read")
    client = key_client(HOST_A, secret)
    assert client.get("/api/billing/summary/").status_code == 200
    world_a.owner.role = Role.TENANT_STAFF
    world_a.owner.save(update_fields=["role"])
    assert client.get("/api/billing/summary/").status_code == 403
    assert client.post("/api/customers/", {"name": "x"}, format="json").status_code == 403
    assert client.get("/api/customers/").status_code == 200  # staff still read customers
    world_a.owner.is_active = False
    world_a.owner.save(update_fields=["is_active"])
    response = client.get("/api/customers/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "user_inactive"


def test_managers_and_staff_cannot_mint_keys(api, world_a):
    for user in (world_a.manager, world_a.staff, world_a.customer_user):
        response = api(HOST_A, user).post(
            "/api/keys/", {"name": "x", "scopes": ["customers:read"]}, format="json"
        )
        assert response.status_code == 403
    assert not APIKey.objects.exists()


def test_an_operator_masquerading_as_an_owner_cannot_mint_keys(api, make_user, world_a):
    support = make_user(Role.PLATFORM_SUPPORT)
    client = masquerade_client(api, support, world_a.owner)
    response = client.post("/api/keys/", {"name": "x", "scopes": ["customers:read"]}, format="json")
    assert_refused(response)
    assert not APIKey.objects.exists()


def test_scopes_and_expiry_are_checked(api, world_a):
    owner = api(HOST_A, world_a.owner)
    unknown = owner.post("/api/keys/", {"name": "x", "scopes": ["root"]}, format="json")
    assert unknown.status_code == 400 and "scopes.0" in unknown.json()["error"]["fields"]
    empty = owner.post("/api/keys/", {"name": "x", "scopes": []}, format="json")
    assert empty.status_code == 400
    too_long = (timezone.now() + timedelta(days=4000)).isoformat()
    far = owner.post(
        "/api/keys/",
        {"name": "x", "scopes": ["customers:read"], "expires_at": too_long},
        format="json",
    )
    assert far.status_code == 400 and "expires_at" in far.json()["error"]["fields"]


def test_last_used_is_written_at_most_once_a_minute(world_a, django_assert_num_queries):
    secret = issue(world_a, "customers:read")
    client = key_client(HOST_A, secret)
    key = APIKey.objects.get(tenant=world_a.tenant)
    assert key.last_used_at is None
    client.get("/api/customers/")
    key.refresh_from_db()
    first = key.last_used_at
    assert first is not None
    client.get("/api/customers/")
    key.refresh_from_db()
    assert key.last_used_at == first
    APIKey.objects.filter(pk=key.pk).update(last_used_at=first - timedelta(minutes=2))
    client.get("/api/customers/")
    key.refresh_from_db()
    assert key.last_used_at > first
