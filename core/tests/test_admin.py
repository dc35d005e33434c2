"""The admin operators use: role badges, filters, the hijack button only where the matrix allows,
grants with their status and bulk revoke, masquerade records that cannot be edited."""

from __future__ import annotations

import re

import pytest

from access.grants import grants_revoke
from access.models import MasqueradeSession, PermissionGrant
from conftest import PLATFORM_HOST
from users.roles import Role

pytestmark = pytest.mark.django_db


def hijack_buttons(html: str) -> set[str]:
    return set(re.findall(r'data-hijack-user="(\d+)"', html))


@pytest.mark.parametrize(
    ("operator_role", "sees_button_for"),
    [
        (Role.SUPERUSER, {"owner", "demo_staff", "manager"}),
        (Role.PLATFORM_SUPPORT, {"owner", "demo_staff"}),
        (Role.PLATFORM_SALES, {"demo_staff"}),
        (Role.PLATFORM_MANAGER, set()),
    ],
)
def test_user_changelist_shows_hijack_buttons_only_where_allowed(
    browser, make_user, tenant_a, operator_role, sees_button_for
):
    people = {
        "owner": make_user(Role.TENANT_OWNER, tenant_a),
        "demo_staff": make_user(Role.TENANT_STAFF, tenant_a, is_temporary=True),
        "manager": make_user(Role.PLATFORM_MANAGER),
    }
    operator = make_user(operator_role)
    page = browser(PLATFORM_HOST, operator).get("/admin/users/user/")
    assert page.status_code == 200
    html = page.content.decode()
    expected = {str(people[name].pk) for name in sees_button_for}
    shown = hijack_buttons(html) & {str(p.pk) for p in people.values()}
    assert shown == expected
    assert str(operator.pk) not in hijack_buttons(html)
    assert 'class="role-badge role-tenant_staff"' in html


def test_user_changelist_filters_and_search(browser, make_user, tenant_a, tenant_b):
    superuser = make_user(Role.SUPERUSER)
    demo = make_user(Role.CUSTOMER, tenant_a, is_temporary=True, email="demo-x@example.com")
    other = make_user(Role.CUSTOMER, tenant_b, email="other-x@example.com")
    client = browser(PLATFORM_HOST, superuser)
    by_flag = client.get("/admin/users/user/", {"is_temporary__exact": "1"}).content.decode()
    assert demo.email in by_flag and other.email not in by_flag
    by_tenant = client.get("/admin/users/user/", {"tenant__id__exact": tenant_b.pk})
    assert other.email in by_tenant.content.decode()
    assert demo.email not in by_tenant.content.decode()
    by_role = client.get("/admin/users/user/", {"role__exact": "CUSTOMER", "q": "demo-x"})
    assert demo.email in by_role.content.decode()
    assert other.email not in by_role.content.decode()


def test_tenant_admin_shows_tier_status_and_domains(browser, make_user, tenant_a):
    client = browser(PLATFORM_HOST, make_user(Role.SUPERUSER))
    html = client.get("/admin/core/tenant/").content.decode()
    assert "BUSINESS" in html and "status-active" in html and "alpha.localhost" in html
    detail = client.get(f"/admin/core/tenant/{tenant_a.pk}/change/").content.decode()
    assert "alpha.localhost" in detail and "domains-0-domain" in detail


def test_grant_admin_shows_status_colours_and_bulk_revokes(
    browser, make_user, frozen_clock, security_lines
):
    from datetime import timedelta

    superuser = make_user(Role.SUPERUSER)
    support = make_user(Role.PLATFORM_SUPPORT)
    live = PermissionGrant.create_grant(
        grantor=superuser, grantee=support, action="view_billing", reason="r1"
    )
    short = PermissionGrant.create_grant(
        grantor=superuser, grantee=support, action="view_customers", reason="r2", duration_minutes=1
    )
    gone = PermissionGrant.create_grant(
        grantor=superuser, grantee=support, action="manage_plugins", reason="r3"
    )
    grants_revoke(grants=PermissionGrant.objects.filter(pk=gone.pk), revoked_by=superuser)
    frozen_clock.set(frozen_clock.moment + timedelta(minutes=2))
    client = browser(PLATFORM_HOST, superuser)
    html = client.get("/admin/core/permissiongrant/").content.decode()
    for status in ("status-active", "status-expired", "status-revoked"):
        assert status in html
    active_only = client.get("/admin/core/permissiongrant/", {"status": "active"}).content
    assert active_only.decode().count("status-active") == 1

    response = client.post(
        "/admin/core/permissiongrant/",
        {"action": "revoke_selected", "_selected_action": [live.pk, short.pk, gone.pk]},
    )
    assert response.status_code == 302
    live.refresh_from_db()
    assert live.status == "REVOKED"
    short.refresh_from_db()
    assert short.status == "EXPIRED"
    revoked = [line for line in security_lines() if line["event"] == "grant_revoked"]
    assert len(revoked) == 2  # gone (earlier) and live; the expired one needed nothing


def test_grants_are_created_through_the_rules_in_the_admin(browser, make_user, tenant_a):
    superuser = make_user(Role.SUPERUSER)
    support = make_user(Role.PLATFORM_SUPPORT)
    client = browser(PLATFORM_HOST, superuser)
    refused = client.post(
        "/admin/core/permissiongrant/add/",
        {
            "grantee": support.pk,
            "action": "view_billing",
            "tenant": tenant_a.pk,
            "reason": "x",
            "duration_minutes": 100000,
        },
    )
    assert refused.status_code == 200 and "minutes" in refused.content.decode()
    created = client.post(
        "/admin/core/permissiongrant/add/",
        {
            "grantee": support.pk,
            "action": "view_billing",
            "tenant": tenant_a.pk,
            "reason": "billing ticket",
            "duration_minutes": 30,
        },
    )
    assert created.status_code == 302
    grant = PermissionGrant.objects.get()
    assert (grant.grantor, grant.tenant, grant.is_active()) == (superuser, tenant_a, True)


def test_support_sees_grants_but_cannot_revoke(browser, make_user):
    superuser = make_user(Role.SUPERUSER)
    support = make_user(Role.PLATFORM_SUPPORT)
    grantee = make_user(Role.PLATFORM_SUPPORT)
    grant = PermissionGrant.create_grant(
        grantor=superuser, grantee=grantee, action="view_billing", reason="r"
    )
    client = browser(PLATFORM_HOST, support)
    assert client.get("/admin/core/permissiongrant/").status_code == 200
    client.post(
        "/admin/core/permissiongrant/",
        {"action": "revoke_selected", "_selected_action": [grant.pk]},
    )
    grant.refresh_from_db()
    assert grant.is_active()


def test_masquerade_records_are_read_only(browser, make_user, tenant_a):
    superuser = make_user(Role.SUPERUSER)
    owner = make_user(Role.TENANT_OWNER, tenant_a)
    client = browser(PLATFORM_HOST, superuser)
    client.post("/hijack/acquire/", {"user_pk": owner.pk, "reason": "check"})
    record = MasqueradeSession.objects.get()
    admin = browser(PLATFORM_HOST, superuser)
    listing = admin.get("/admin/core/masqueradesession/")
    assert listing.status_code == 200 and owner.email in listing.content.decode()
    detail = admin.get(f"/admin/core/masqueradesession/{record.pk}/change/").content.decode()
    assert 'name="_save"' not in detail
    assert admin.get("/admin/core/masqueradesession/add/").status_code == 403
    assert admin.post(f"/admin/core/masqueradesession/{record.pk}/delete/").status_code == 403


def test_sales_sees_only_demo_accounts_and_their_tenants(browser, make_user, tenant_a, tenant_b):
    demo = make_user(Role.CUSTOMER, tenant_a, is_temporary=True)
    real = make_user(Role.CUSTOMER, tenant_b)
    client = browser(PLATFORM_HOST, make_user(Role.PLATFORM_SALES))
    users = client.get("/admin/users/user/").content.decode()
    assert demo.email in users and real.email not in users
    tenants = client.get("/admin/core/tenant/").content.decode()
    assert "Alpha Salon" in tenants and "Beta Clinic" not in tenants


def tenant_form(tenant, **overrides) -> dict:
    """The tenant change form as the browser posts it (its domains inline unchanged)."""
    primary = tenant.domains.get(is_primary=True)
    data = {
        "name": tenant.name,
        "subscription_tier": tenant.subscription_tier,
        "status": tenant.status,
        "timezone": tenant.timezone,
        "cancellation_window_hours": tenant.cancellation_window_hours,
        "late_cancellation_fee_percent": tenant.late_cancellation_fee_percent,
        "domains-TOTAL_FORMS": "1",
        "domains-INITIAL_FORMS": "1",
        "domains-MIN_NUM_FORMS": "0",
        "domains-MAX_NUM_FORMS": "1000",
        "domains-0-id": primary.pk,
        "domains-0-tenant": tenant.pk,
        "domains-0-domain": primary.domain,
        "domains-0-is_primary": "on",
    }
    return {**data, **overrides}


def test_suspending_a_tenant_in_the_admin_goes_through_the_service_and_is_audited(
    browser, make_user, tenant_a, security_lines
):
    manager = make_user(Role.PLATFORM_MANAGER)
    response = browser(PLATFORM_HOST, manager).post(
        f"/admin/core/tenant/{tenant_a.pk}/change/", tenant_form(tenant_a, status="SUSPENDED")
    )
    assert response.status_code == 302
    tenant_a.refresh_from_db()
    assert tenant_a.is_suspended
    (line,) = [line for line in security_lines() if line["event"] == "tenant_suspended"]
    assert line["actor"]["email"] == manager.email and line["tenant_schema"] == "alpha"


def test_a_tenant_added_in_the_admin_is_provisioned_with_its_primary_domain(
    browser, make_user, security_lines
):
    from tenancy.models import Domain, Tenant

    superuser = make_user(Role.SUPERUSER)
    client = browser(PLATFORM_HOST, superuser)
    form = {
        "name": "Gamma Studio",
        "schema_name": "gamma",
        "domain": "gamma.localhost",
        "subscription_tier": "FREE",
        "status": "TRIAL",
        "timezone": "Europe/Berlin",
        "cancellation_window_hours": "24",
        "late_cancellation_fee_percent": "0",
    }
    taken = client.post("/admin/core/tenant/add/", {**form, "domain": "alpha.localhost"})
    assert taken.status_code == 200 and "This domain is taken." in taken.content.decode()
    assert client.post("/admin/core/tenant/add/", form).status_code == 302
    gamma = Tenant.objects.get(schema_name="gamma")
    assert Domain.objects.get(tenant=gamma).is_primary
    created = [line for line in security_lines() if line["event"] == "tenant_created"]
    assert [(line["actor"]["email"], line["tenant"]) for line in created] == [
        (superuser.email, "gamma")
    ]
