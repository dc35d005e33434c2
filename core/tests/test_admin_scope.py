"""Every admin page, as every platform role, against what the API lets that role see and do.

The models are discovered from ``admin.site._registry``: a model registered without a row in
``EXPECTED`` fails the suite. For each model and role the test checks the changelist rows, every
object's change page (shown or not, editable or not), the add and delete pages, the actions
offered, and that actions posted anyway change nothing they may not. Where the API lists the
model, it is the oracle: the admin must show exactly the rows the API returns to that role.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.contrib import admin
from django.db.models import Model
from django.utils import timezone

from access.models import MasqueradeSession, PermissionGrant
from apikeys.models import APIKey
from apikeys.services import api_key_create
from conftest import HOST_A, HOST_B, PLATFORM_HOST, connection
from core.audit import security_event
from core.models import AuditEvent
from notifications.models import Delivery, DueJob, OutboxEvent
from notifications.outbox import due_job_schedule
from plugins.models import PluginInstallation, PluginRating, PluginTemplate
from plugins.services import plugin_rate
from plugins.tests.helpers import install
from tenancy.models import Domain, Tenant
from users.models import User
from users.roles import PLATFORM_ROLES, TENANT_ROLES, Role

pytestmark = pytest.mark.django_db

ADMINS = frozenset({Role.SUPERUSER, Role.PLATFORM_MANAGER})


@dataclass
class World:
    operators: dict[str, User]
    people: dict[str, User] = field(default_factory=dict)


@pytest.fixture
def world(make_user, tenant_a, tenant_b) -> World:
    """Alpha holds a demo account (PLATFORM_SALES reaches it), Beta does not. Grants and
    masquerades among operators, so each role has records of its own and records of others."""
    operators: dict[str, User] = {role: make_user(role) for role in sorted(PLATFORM_ROLES)}
    su, pm = operators[Role.SUPERUSER], operators[Role.PLATFORM_MANAGER]
    sales, support = operators[Role.PLATFORM_SALES], operators[Role.PLATFORM_SUPPORT]
    people = {
        "other_support": make_user(Role.PLATFORM_SUPPORT),
        "other_superuser": make_user(Role.SUPERUSER),
        "demo": make_user(Role.CUSTOMER, tenant_a, is_temporary=True),
        "owner_a": make_user(Role.TENANT_OWNER, tenant_a),
        "owner_b": make_user(Role.TENANT_OWNER, tenant_b),
        "staff_b": make_user(Role.TENANT_STAFF, tenant_b),
    }
    # Each operator gave or holds grants of its own (only support and tenant people receive any).
    grant = PermissionGrant.create_grant
    grant(grantor=su, grantee=support, action="view_billing", reason="r", tenant=tenant_b)
    grant(grantor=su, grantee=support, action="manage_settings", reason="r", tenant=tenant_b)
    grant(grantor=pm, grantee=support, action="view_customers", reason="r")
    grant(grantor=sales, grantee=support, action="manage_customers", reason="r", tenant=tenant_a)
    grant(grantor=su, grantee=people["other_support"], action="view_billing", reason="secret")
    now = timezone.now()
    for hijacker, hijacked in [
        (su, people["owner_b"]),
        (support, people["owner_a"]),
        (sales, people["demo"]),
        (people["other_support"], people["staff_b"]),
        (people["other_superuser"], pm),
    ]:
        MasqueradeSession.objects.create(
            hijacker=hijacker,
            hijacked=hijacked,
            tenant=hijacked.tenant,
            channel="ADMIN",
            reason="ticket",
            started_at=now,
            expires_at=now + timedelta(minutes=30),
        )
    Domain.objects.create(domain="book.beta-clinic.example", tenant=tenant_b, is_custom_domain=True)
    # Audit events of every kind the scope tells apart, besides those the grants above wrote
    # (platform staff's): tenant people's in a demo tenant and in another, a demo account's
    # outside any tenant, platform staff's inside a tenant, and the platform's own.
    connection.set_schema_to_public()
    security_event("customer_created", actor=people["owner_a"], tenant=tenant_a)
    security_event("customer_deleted", actor=people["owner_b"], tenant=tenant_b)
    security_event("login_succeeded", actor=people["demo"])
    security_event("role_changed", actor=pm, target=people["staff_b"], tenant=tenant_b)
    security_event("login_failed", email="nobody@example.com")
    # The marketplace and the outbox in both tenants: installs, ratings, due jobs, an event and
    # its delivery each, so each role's scope over tenants shows.
    for tenant, owner in ((tenant_a, people["owner_a"]), (tenant_b, people["owner_b"])):
        install(tenant, "daily-agenda", actor=owner)
        plugin_rate(
            tenant=tenant, plugin=PluginTemplate.objects.get(slug="webhooks"), actor=owner, score=4
        )
        due_job_schedule(
            tenant=tenant, plugin="daily-agenda", kind="probe", key="k", due_at=now, payload={}
        )
        api_key_create(tenant=tenant, actor=owner, name="Site", scopes=["appointments:read"])
        event = OutboxEvent.objects.create(tenant=tenant, kind="appointment.created")
        Delivery.objects.create(
            event=event, tenant=tenant, plugin="webhooks", channel="WEBHOOK", recipient="r",
            status="FAILED",
        )  # fmt: skip
    connection.set_schema_to_public()
    return World(operators=operators, people=people)


def api_rows(api, path: str, user: User) -> set[str]:
    response = api(PLATFORM_HOST, user).get(path, {"page_size": 200})
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def by_public_id(model: type[Model], ids: set[str]) -> set[int]:
    return set(model._default_manager.filter(public_id__in=ids).values_list("pk", flat=True))


def visible_tenants(api, world: World, user: User) -> set[int]:
    return by_public_id(Tenant, api_rows(api, "/api/platform/tenants/", user))


def visible_users(api, world: World, user: User) -> set[int]:
    return by_public_id(User, api_rows(api, "/api/platform/users/", user))


def visible_grants(api, world: World, user: User) -> set[int]:
    return by_public_id(PermissionGrant, api_rows(api, "/api/platform/grants/", user))


def visible_domains(api, world: World, user: User) -> set[int]:
    """Each tenant's domains API, asked on its host with the operator's platform token."""
    names: set[str] = set()
    for host in (HOST_A, HOST_B):
        response = api(host, user, issued_on="public").get("/api/domains/", {"page_size": 200})
        assert response.status_code in (200, 401, 403), response.content  # 401: out of reach
        if response.status_code == 200:
            names |= {row["domain"] for row in response.json()["results"]}
    return set(Domain.objects.filter(domain__in=names).values_list("pk", flat=True))


def visible_catalogue(api, world: World, user: User) -> set[int]:
    return by_public_id(PluginTemplate, api_rows(api, "/api/plugins/", user))


def tenant_api_rows(api, user: User, path: str) -> dict[str, set[str]]:
    """The rows ``path`` lists on each tenant's host, asked with the operator's platform token;
    hosts out of its reach are left out."""
    rows = {}
    for host in (HOST_A, HOST_B):
        response = api(host, user, issued_on="public").get(path, {"page_size": 200})
        assert response.status_code in (200, 401, 403), response.content  # 401: out of reach
        if response.status_code == 200:
            rows[host] = {row["id"] for row in response.json()["results"]}
    return rows


def visible_installations(api, world: World, user: User) -> set[int]:
    ids = set().union(*tenant_api_rows(api, user, "/api/installed-plugins/").values())
    return by_public_id(PluginInstallation, ids)


def visible_deliveries(api, world: World, user: User) -> set[int]:
    return by_public_id(
        Delivery, set().union(*tenant_api_rows(api, user, "/api/deliveries/").values())
    )


def visible_api_keys(api, world: World, user: User) -> set[int]:
    """Each tenant's keys API (``manage_api_keys``), asked with the operator's platform token."""
    return by_public_id(APIKey, set().union(*tenant_api_rows(api, user, "/api/keys/").values()))


def plugin_tenants(api, user: User) -> set[int]:
    """No API lists ratings, outbox events or due jobs: they are shown for the tenants whose
    installed plugins (and delivery log) the operator may read through the API."""
    hosts = tenant_api_rows(api, user, "/api/installed-plugins/")
    return set(Domain.objects.filter(domain__in=hosts).values_list("tenant_id", flat=True))


def visible_by_tenant(model: type[Model]) -> Callable[[Any, World, User], set[int]]:
    def visible(api, world: World, user: User) -> set[int]:
        rows = model._default_manager.filter(tenant_id__in=plugin_tenants(api, user))
        return set(rows.values_list("pk", flat=True))

    return visible


def visible_masquerades(api, world: World, user: User) -> set[int]:
    """No API lists masquerades. Who may know of one: those who oversee operators (SUPERUSER,
    PLATFORM_MANAGER, as for grants) all of them; anyone else those it took part in."""
    records = MasqueradeSession.objects.all()
    if user.role not in ADMINS:
        records = records.filter(hijacker=user) | records.filter(hijacked=user)
    return set(records.values_list("pk", flat=True))


def visible_audit_events(api, world: World, user: User) -> set[int]:
    """No API lists audit events; the rule the README states is the oracle. SUPERUSER and
    PLATFORM_MANAGER: all. PLATFORM_SUPPORT: events in tenants not done by platform staff.
    PLATFORM_SALES: the same, limited to demo tenants and demo accounts."""
    demo_tenants = set(Tenant.objects.filter(users__is_temporary=True).values_list("pk", flat=True))
    demo_people = set(User.objects.filter(is_temporary=True).values_list("pk", flat=True))

    def may_read(event: AuditEvent) -> bool:
        if user.role in ADMINS:
            return True
        if event.actor_role in PLATFORM_ROLES:
            return False
        if user.role == Role.PLATFORM_SUPPORT:
            return event.tenant_id is not None
        return (
            event.tenant_id in demo_tenants
            or event.actor_id in demo_people
            or event.target_id in demo_people
        )

    return {event.pk for event in AuditEvent.objects.all() if may_read(event)}


def users_changeable(user: User, target: User) -> bool:
    """Its own profile, or an account whose role it may assign (never a SUPERUSER's, unless
    it is one): users.services.user_update / user_change_role over the API's role rules."""
    if user.role not in ADMINS:
        return False
    return target.pk == user.pk or user.role == Role.SUPERUSER or target.role != Role.SUPERUSER


def by_role(roles: frozenset[str]) -> Callable[[User, Any], bool]:
    return lambda user, obj: user.role in roles


@dataclass(frozen=True)
class Expect:
    """What a role may do with a model in the admin: never more than the API lets it."""

    visible: Callable[[Any, World, User], set[int]]
    add: frozenset[str]
    change: Callable[[User, Any], bool]
    delete: frozenset[str]
    actions: frozenset[str]  # offered to the roles in ``add | change`` (ADMINS), to no one else


EXPECTED: dict[type[Model], Expect] = {
    # Platform API: everyone with view_tenants reads, manage_tenants (SU, PM) writes; no delete,
    # but SU and PM schedule (and cancel) a deletion after the grace period.
    Tenant: Expect(
        visible_tenants,
        ADMINS,
        by_role(ADMINS),
        frozenset(),
        frozenset({"schedule_deletion", "cancel_deletion"}),
    ),
    # Tenant-host domains API: manage_settings there. Only SU, PM write in the admin.
    Domain: Expect(
        visible_domains,
        ADMINS,
        by_role(ADMINS),
        ADMINS,
        frozenset({"delete_selected", "verify_now"}),
    ),
    # Platform users API: view_users reads (sales: demo accounts), manage_users creates.
    User: Expect(
        visible_users,
        ADMINS,
        users_changeable,
        frozenset(),
        frozenset({"deactivate_selected", "reactivate_selected"}),
    ),
    # Grants API: managers see and revoke every grant, others those they gave or hold.
    PermissionGrant: Expect(
        visible_grants, ADMINS, by_role(ADMINS), frozenset(), frozenset({"revoke_selected"})
    ),
    MasqueradeSession: Expect(
        visible_masquerades, frozenset(), by_role(frozenset()), frozenset(), frozenset()
    ),
    # The audit trail: read-only for everyone, each role reading what it may know.
    AuditEvent: Expect(
        visible_audit_events, frozenset(), by_role(frozenset()), frozenset(), frozenset()
    ),
    # The marketplace: the catalogue as the platform API lists it, read-only (shipped as data);
    # installs as each tenant's installed-plugins API lists them to the operator; ratings the
    # same tenants' (changed only through the API's services).
    PluginTemplate: Expect(
        visible_catalogue, frozenset(), by_role(frozenset()), frozenset(), frozenset()
    ),
    PluginInstallation: Expect(
        visible_installations, frozenset(), by_role(frozenset()), frozenset(), frozenset()
    ),
    PluginRating: Expect(
        visible_by_tenant(PluginRating),
        frozenset(),
        by_role(frozenset()),
        frozenset(),
        frozenset(),
    ),
    # The outbox: the delivery log as each tenant's API lists it; administrators redeliver.
    Delivery: Expect(
        visible_deliveries,
        frozenset(),
        by_role(frozenset()),
        frozenset(),
        frozenset({"redeliver"}),
    ),
    OutboxEvent: Expect(
        visible_by_tenant(OutboxEvent),
        frozenset(),
        by_role(frozenset()),
        frozenset(),
        frozenset(),
    ),
    DueJob: Expect(
        visible_by_tenant(DueJob), frozenset(), by_role(frozenset()), frozenset(), frozenset()
    ),
    # API keys: read-only, each operator seeing the keys the tenants' keys API lists to it.
    APIKey: Expect(visible_api_keys, frozenset(), by_role(frozenset()), frozenset(), frozenset()),
}


def test_every_registered_admin_model_has_a_row():
    assert set(admin.site._registry) == set(EXPECTED)


def admin_url(model: type[Model], view: str = "changelist", pk: int | None = None) -> str:
    base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    return {"changelist": base, "add": f"{base}add/"}.get(view) or f"{base}{pk}/{view}/"


def offered_actions(html: str) -> set[str]:
    select = re.search(r'<select name="action".*?</select>', html, re.S)
    return set(re.findall(r'<option value="(\w+)"', select.group(0))) - {""} if select else set()


def snapshot(model: type[Model]) -> list[dict]:
    return list(model._default_manager.order_by("pk").values())


@pytest.mark.parametrize("role", sorted(PLATFORM_ROLES))
@pytest.mark.parametrize("model", list(EXPECTED), ids=lambda model: model.__name__)
def test_each_role_sees_and_changes_in_the_admin_what_the_api_allows(
    browser, api, world, model, role
):
    expect = EXPECTED[model]
    user = world.operators[role]
    client = browser(PLATFORM_HOST, user)

    listing = client.get(admin_url(model))
    assert listing.status_code == 200
    shown = set(listing.context["cl"].queryset.values_list("pk", flat=True))
    visible = expect.visible(api, world, user)
    assert shown == visible
    assert offered_actions(listing.content.decode()) == (
        set(expect.actions) if role in ADMINS else set()
    )

    for obj in model._default_manager.all():
        page = client.get(admin_url(model, "change", obj.pk))
        if obj.pk not in visible:
            assert page.status_code == 302, f"{model.__name__} {obj} is out of scope"
            continue
        assert page.status_code == 200
        editable = 'name="_save"' in page.content.decode()
        assert editable == expect.change(user, obj), f"{model.__name__} {obj}"

    assert client.get(admin_url(model, "add")).status_code == (200 if role in expect.add else 403)
    if visible:
        deletable = client.get(admin_url(model, "delete", min(visible))).status_code == 200
        assert deletable == (role in expect.delete)

    if role not in ADMINS:  # actions it is not offered, posted anyway, change nothing
        before = snapshot(model)
        everything = list(model._default_manager.values_list("pk", flat=True))
        for action in declared_actions(model):
            client.post(admin_url(model), {"action": action, "_selected_action": everything})
        assert snapshot(model) == before


def declared_actions(model: type[Model]) -> set[str]:
    model_admin = admin.site._registry[model]
    # An action given as a function is named after it (as Django names it).
    own = (a if isinstance(a, str) else a.__name__ for a in model_admin.actions or [])
    return {*own, *(name for name, _ in admin.site.actions)}


@pytest.mark.parametrize("role", sorted(TENANT_ROLES))
def test_tenant_roles_get_no_admin_page(browser, world, make_user, tenant_a, role):
    client = browser(PLATFORM_HOST, make_user(role, tenant_a))
    for model in EXPECTED:
        response = client.get(admin_url(model))
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_a_grant_for_every_tenant_shows_support_every_domain_as_the_api_does(browser, api, world):
    support = world.people["other_support"]
    assert visible_domains(api, world, support) == set()
    PermissionGrant.create_grant(
        grantor=world.operators[Role.SUPERUSER],
        grantee=support,
        action="manage_settings",
        reason="domains ticket",
    )
    listing = browser(PLATFORM_HOST, support).get(admin_url(Domain))
    shown = set(listing.context["cl"].queryset.values_list("pk", flat=True))
    assert (
        shown
        == visible_domains(api, world, support)
        == set(Domain.objects.values_list("pk", flat=True))
    )


def test_a_grant_whose_grantor_was_demoted_shows_nothing_in_the_admin_as_in_the_api(
    browser, api, world
):
    support = world.people["other_support"]
    grantor = world.operators[Role.PLATFORM_MANAGER]
    PermissionGrant.create_grant(
        grantor=grantor, grantee=support, action="manage_settings", reason="domains ticket"
    )
    assert visible_domains(api, world, support) == set(Domain.objects.values_list("pk", flat=True))
    User.objects.filter(pk=grantor.pk).update(role=Role.PLATFORM_SUPPORT)
    listing = browser(PLATFORM_HOST, support).get(admin_url(Domain))
    shown = set(listing.context["cl"].queryset.values_list("pk", flat=True))
    assert shown == visible_domains(api, world, support) == set()
