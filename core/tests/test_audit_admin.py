"""The audit trail in the admin: read-only, filterable by actor, tenant and action, and each
platform role sees only what it may know."""

from __future__ import annotations

import pytest

from conftest import PLATFORM_HOST
from core.audit import security_event
from core.models import AuditEvent
from users.roles import Role

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/core/auditevent/"


@pytest.fixture
def events(make_user, tenant_a, tenant_b):
    """One event of each kind: platform staff's, a tenant's, a demo tenant's."""
    manager = make_user(Role.PLATFORM_MANAGER)
    owner_a = make_user(Role.TENANT_OWNER, tenant_a)
    owner_b = make_user(Role.TENANT_OWNER, tenant_b)
    make_user(Role.CUSTOMER, tenant_b, is_temporary=True)  # beta holds demo accounts
    return {
        "staff": security_event("role_changed", actor=manager, target=owner_a),
        "tenant": security_event("customer_created", actor=owner_a, tenant=tenant_a),
        "demo": security_event("customer_deleted", actor=owner_b, tenant=tenant_b),
    }


def listed(client, **query) -> set[str]:
    response = client.get(CHANGELIST, query)
    assert response.status_code == 200
    html = response.content.decode()
    return {
        str(event.pk)
        for event in AuditEvent.objects.all()
        if f"/admin/core/auditevent/{event.pk}/change/" in html
    }


@pytest.mark.parametrize(
    ("role", "visible"),
    [
        (Role.SUPERUSER, {"staff", "tenant", "demo"}),
        (Role.PLATFORM_MANAGER, {"staff", "tenant", "demo"}),
        (Role.PLATFORM_SUPPORT, {"tenant", "demo"}),
        (Role.PLATFORM_SALES, {"demo"}),
    ],
)
def test_each_platform_role_sees_only_the_events_it_may_know(
    browser, make_user, events, role, visible
):
    client = browser(PLATFORM_HOST, make_user(role))
    shown = listed(client)
    assert {name for name, event in events.items() if str(event.pk) in shown} == visible
    for name, event in events.items():
        page = client.get(f"{CHANGELIST}{event.pk}/change/")
        assert (page.status_code == 200) == (name in visible), (name, page.status_code)


def test_the_audit_admin_is_read_only(browser, make_user, events):
    client = browser(PLATFORM_HOST, make_user(Role.SUPERUSER))
    event = events["tenant"]
    assert client.get(f"{CHANGELIST}add/").status_code == 403
    assert client.post(f"{CHANGELIST}{event.pk}/change/", {"action": "x"}).status_code == 403
    assert client.post(f"{CHANGELIST}{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert 'name="action"' not in client.get(CHANGELIST).content.decode()
    assert AuditEvent.objects.get(pk=event.pk).action == "customer_created"


def test_the_audit_admin_filters_by_actor_tenant_and_action(browser, make_user, events, tenant_a):
    client = browser(PLATFORM_HOST, make_user(Role.SUPERUSER))
    tenant_event = str(events["tenant"].pk)
    assert listed(client, action="customer_created") & {str(e.pk) for e in events.values()} == {
        tenant_event
    }
    by_actor = listed(client, actor__id__exact=events["tenant"].actor_id)
    assert by_actor == {tenant_event}
    by_tenant = listed(client, tenant__id__exact=tenant_a.pk)
    assert tenant_event in by_tenant and str(events["demo"].pk) not in by_tenant


def test_the_filters_offer_only_what_the_viewer_may_see(browser, make_user, events):
    client = browser(PLATFORM_HOST, make_user(Role.PLATFORM_SALES))
    html = client.get(CHANGELIST).content.decode()
    assert events["demo"].actor_email in html
    assert events["tenant"].actor_email not in html and events["staff"].actor_email not in html
    assert "role_changed" not in html
