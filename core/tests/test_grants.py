"""Permission grants (SPEC §2.5): bounded, reasoned, never self-made, only what the grantor
holds, exact expiry, revocation, and an API permission that follows them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from access.models import PermissionGrant
from access.permissions import request_capabilities
from access.policy import GRANTABLE_ACTIONS
from conftest import HOST_A, HOST_B, PLATFORM_HOST
from core.exceptions import DomainError, PermissionDenied
from tenancy.http import request_tenant_set
from users.roles import OWNER_CAPABILITIES, Capability, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(make_user):
    return make_user(Role.SUPERUSER)


@pytest.fixture
def support(make_user):
    return make_user(Role.PLATFORM_SUPPORT)


def grant(grantor, grantee, **fields):
    fields = {"action": "view_billing", "reason": "billing question, ticket 88", **fields}
    return PermissionGrant.create_grant(grantor=grantor, grantee=grantee, **fields)


def test_the_seed_snippet_works_as_written(superuser, support):
    grant_ = PermissionGrant.create_grant(
        grantor=superuser,
        grantee=support,
        action="view_billing",
        reason="Customer requested billing support",
        duration_minutes=30,
    )
    assert grant_.is_active()
    assert grant_.status == "ACTIVE"
    assert grant_.expires_at - grant_.created_at == timedelta(minutes=30)


def test_grantable_actions_are_tenant_capabilities():
    assert set(GRANTABLE_ACTIONS) <= OWNER_CAPABILITIES


def test_expiry_is_exact(superuser, support, frozen_clock):
    start = frozen_clock.moment
    grant_ = grant(superuser, support, duration_minutes=30)
    frozen_clock.set(start + timedelta(minutes=30) - timedelta(microseconds=1))
    assert grant_.is_active()
    assert PermissionGrant.objects.active().filter(pk=grant_.pk).exists()
    frozen_clock.set(start + timedelta(minutes=30))
    assert not grant_.is_active()
    assert grant_.status == "EXPIRED"
    assert not PermissionGrant.objects.active().filter(pk=grant_.pk).exists()


def test_revoke_one(superuser, support, security_lines):
    grant_ = grant(superuser, support)
    assert grant_.revoke(revoked_by=superuser, reason="done") is True
    assert grant_.status == "REVOKED" and not grant_.is_active()
    assert grant_.revoke(revoked_by=superuser) is False
    revoked = [line for line in security_lines() if line["event"] == "grant_revoked"]
    assert len(revoked) == 1 and revoked[0]["target"]["email"] == support.email


def test_bulk_revoke_revokes_only_active_grants(superuser, support, make_user, frozen_clock):
    other = make_user(Role.PLATFORM_SUPPORT)
    first, second = grant(superuser, support), grant(superuser, other)
    short = grant(superuser, other, duration_minutes=1)
    frozen_clock.set(frozen_clock.moment + timedelta(minutes=2))
    count = PermissionGrant.objects.filter(grantor=superuser).revoke(
        revoked_by=superuser, reason="incident over"
    )
    assert count == 2
    statuses = {g.pk: g.status for g in PermissionGrant.objects.all()}
    assert statuses == {first.pk: "REVOKED", second.pk: "REVOKED", short.pk: "EXPIRED"}


def test_nobody_grants_themselves(superuser):
    with pytest.raises(PermissionDenied, match="themselves"):
        grant(superuser, superuser)


@pytest.mark.parametrize("minutes", [0, -5, 8 * 60 + 1])
def test_durations_are_bounded(superuser, support, minutes):
    with pytest.raises(DomainError, match="minutes"):
        grant(superuser, support, duration_minutes=minutes)


def test_the_maximum_is_configurable(superuser, support, settings):
    settings.PERMISSION_GRANT_MAX_MINUTES = 60
    assert grant(superuser, support, duration_minutes=60)
    with pytest.raises(DomainError):
        grant(superuser, support, duration_minutes=61)


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_reason_is_required(superuser, support, reason):
    with pytest.raises(DomainError, match="reason"):
        grant(superuser, support, reason=reason)


def test_only_registered_actions_can_be_granted(superuser, support):
    with pytest.raises(DomainError, match="cannot be granted"):
        grant(superuser, support, action="manage_tenants")


def test_a_grantor_grants_only_what_it_holds(make_user, tenant_a, support):
    manager = make_user(Role.TENANT_MANAGER, tenant_a)
    staff = make_user(Role.TENANT_STAFF, tenant_a)
    with pytest.raises(PermissionDenied, match="do not hold"):
        grant(manager, staff, tenant=tenant_a)  # managers do not see billing
    with pytest.raises(PermissionDenied, match="do not hold"):
        grant(support, make_user(Role.PLATFORM_SUPPORT), tenant=tenant_a)


def test_a_tenant_owner_grants_only_on_its_own_tenant(make_user, tenant_a, tenant_b):
    owner = make_user(Role.TENANT_OWNER, tenant_a)
    manager = make_user(Role.TENANT_MANAGER, tenant_a)
    assert grant(owner, manager, tenant=tenant_a).is_active()
    with pytest.raises(PermissionDenied):
        grant(owner, manager)  # every tenant: not the owner's to give
    with pytest.raises(PermissionDenied):
        grant(owner, make_user(Role.TENANT_MANAGER, tenant_b), tenant=tenant_b)


def test_a_grant_never_opens_a_host(superuser, make_user, tenant_a, tenant_b, api):
    manager_b = make_user(Role.TENANT_MANAGER, tenant_b)
    with pytest.raises(DomainError, match="cannot reach"):
        grant(superuser, manager_b, tenant=tenant_a)
    grant(superuser, manager_b)  # every tenant it reaches: only B
    answer = api(HOST_A, manager_b, issued_on="beta").get("/api/subscription/")
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "wrong_host"
    assert api(HOST_B, manager_b).get("/api/subscription/").status_code == 200


def test_the_database_refuses_self_grants_and_empty_reasons(superuser, support):
    now = grant(superuser, support).created_at
    for fields in ({"grantee": superuser}, {"reason": " "}):
        with pytest.raises(IntegrityError), transaction.atomic():
            PermissionGrant.objects.create(
                **{
                    "grantor": superuser,
                    "grantee": support,
                    "action": "view_billing",
                    "reason": "r",
                    "created_at": now,
                    "expires_at": now + timedelta(minutes=1),
                    **fields,
                }
            )


def test_api_permission_follows_a_grant(
    superuser, support, api, tenant_a, frozen_clock, security_lines
):
    client = api(HOST_A, support, issued_on="public")
    answer = client.get("/api/subscription/")
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "permission_denied"
    grant_ = grant(superuser, support, tenant=tenant_a, duration_minutes=30)

    allowed = client.get("/api/subscription/")
    assert allowed.status_code == 200
    assert allowed.json()["tenant"] == "alpha"
    assert allowed.json()["subscription_tier"] == "BUSINESS"
    assert "view_billing" in client.get("/api/me/").json()["capabilities"]
    answer = api(HOST_B, support, issued_on="public").get("/api/subscription/")
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "permission_denied"

    frozen_clock.set(grant_.expires_at)
    answer = client.get("/api/subscription/")
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "permission_denied"

    frozen_clock.set(grant_.created_at)
    assert client.get("/api/subscription/").status_code == 200
    grant_.revoke(revoked_by=superuser, reason="answered")
    answer = client.get("/api/subscription/")
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "permission_denied"

    events = [line["event"] for line in security_lines()]
    assert events.count("grant_created") == 1
    assert events.count("grant_used") == 2
    assert events.count("grant_revoked") == 1
    used = next(line for line in security_lines() if line["event"] == "grant_used")
    assert used["actor"]["email"] == support.email and used["grant_id"] == str(grant_.public_id)


def test_the_owner_reads_the_subscription_without_any_grant(
    make_user, tenant_a, api, security_lines
):
    owner = make_user(Role.TENANT_OWNER, tenant_a)
    response = api(HOST_A, owner).get("/api/subscription/")
    assert response.status_code == 200
    assert response.json()["staff_users"] == {"used": 1, "limit": 75}
    assert not [line for line in security_lines() if line["event"] == "grant_used"]


def test_each_grantable_action_names_the_roles_that_may_receive_it():
    for action, grantable in GRANTABLE_ACTIONS.items():
        assert grantable.description and grantable.grantee_roles, action
        assert Role.CUSTOMER not in grantable.grantee_roles, action


def test_a_customer_can_be_granted_nothing(superuser, make_user, tenant_a, api):
    customer = make_user(Role.CUSTOMER, tenant_a)
    owner = make_user(Role.TENANT_OWNER, tenant_a)
    for grantor in (superuser, owner):
        with pytest.raises(DomainError) as refused:
            grant(grantor, customer, action="view_customers", tenant=tenant_a)
        assert refused.value.code == "grantee_role_not_eligible"
    response = api(PLATFORM_HOST, superuser).post(
        "/api/platform/grants/",
        {
            "grantee": str(customer.public_id),
            "action": "view_customers",
            "reason": "let them see everyone",
            "tenant": "alpha",
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "grantee_role_not_eligible"
    assert "grantee" in response.json()["error"]["fields"]
    assert api(HOST_A, customer).get("/api/customers/").json()["count"] == 0


def test_a_grant_stops_counting_when_its_grantor_is_deactivated(make_user, tenant_a, api):
    owner = make_user(Role.TENANT_OWNER, tenant_a)
    manager = make_user(Role.TENANT_MANAGER, tenant_a)
    grant(owner, manager, tenant=tenant_a)
    client = api(HOST_A, manager)
    assert client.get("/api/subscription/").status_code == 200
    owner.is_active = False
    owner.save()
    answer = client.get("/api/subscription/")
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "permission_denied"
    assert "view_billing" not in client.get("/api/me/").json()["capabilities"]


def test_a_grant_stops_counting_when_its_grantor_is_demoted(
    superuser, support, make_user, tenant_a, api
):
    from users.services import user_change_role

    manager = make_user(Role.PLATFORM_MANAGER)
    grant(manager, support)  # every tenant: only SUPERUSER and PLATFORM_MANAGER may give that
    client = api(HOST_A, support, issued_on="public")
    assert client.get("/api/subscription/").status_code == 200
    user_change_role(actor=superuser, user=manager, role=Role.PLATFORM_SUPPORT, tenant=None)
    answer = client.get("/api/subscription/")
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "permission_denied"

    owner = make_user(Role.TENANT_OWNER, tenant_a)
    tenant_manager = make_user(Role.TENANT_MANAGER, tenant_a)
    grant(owner, tenant_manager, tenant=tenant_a)
    assert api(HOST_A, tenant_manager).get("/api/subscription/").status_code == 200
    user_change_role(actor=superuser, user=owner, role=Role.TENANT_STAFF, tenant=tenant_a)
    answer = api(HOST_A, tenant_manager).get("/api/subscription/")
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "permission_denied"


def test_a_grant_stops_counting_when_its_grantee_takes_a_role_that_cannot_receive_it(
    superuser, make_user, tenant_a, api
):
    from users.services import user_change_role

    owner = make_user(Role.TENANT_OWNER, tenant_a)
    manager = make_user(Role.TENANT_MANAGER, tenant_a)
    grant(owner, manager, tenant=tenant_a)
    user_change_role(actor=owner, user=manager, role=Role.CUSTOMER, tenant=tenant_a)
    answer = api(HOST_A, manager).get("/api/subscription/")
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "permission_denied"


def test_a_request_reads_its_capabilities_once_and_a_new_request_sees_a_new_grant(
    superuser, support, tenant_a, django_assert_max_num_queries
):
    def request() -> Request:
        http = APIRequestFactory().get("/api/subscription/", HTTP_HOST=HOST_A)
        request_tenant_set(http, tenant_a)
        drf = Request(http)
        drf.user = support
        return drf

    first = request()
    before = request_capabilities(first)
    assert not before.check(Capability.VIEW_BILLING).allowed
    grant_ = grant(superuser, support, tenant=tenant_a)
    with django_assert_max_num_queries(0):
        assert request_capabilities(first) is before  # read once per request
        assert not request_capabilities(first).check(Capability.VIEW_BILLING).allowed
    later = request_capabilities(request()).check(Capability.VIEW_BILLING)
    assert later.allowed and later.grant == grant_
