"""The catalogue, installing (consent, tiers), configuring (JSON Schema), enabling, uninstalling
and rating, over the API of a tenant host and the platform host."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django_tenants.utils import tenant_context

from conftest import HOST_A, PLATFORM_HOST
from notifications.models import Delivery, DueJob, OutboxEvent
from plugin_data.models import WebhookEndpoint
from plugins.catalogue import PLATFORM_PLUGINS, plugins_sync
from plugins.models import PluginInstallation, PluginRating, PluginTemplate
from plugins.tests.helpers import install
from users.roles import Role

SLUGS = {
    "appointment-reminders", "webhooks", "calendar-feed", "daily-agenda", "no-show-tracking",
    "review-requests",
}  # fmt: skip
REMINDER_CONSENT = {"accepted_permissions": ["appointments.read", "customers.email"]}


def test_six_platform_plugins_are_shipped_and_the_sync_is_idempotent(db):
    assert set(PluginTemplate.objects.values_list("slug", flat=True)) >= SLUGS
    before = list(PluginTemplate.objects.order_by("slug").values())
    assert plugins_sync() == (0, 0)
    call_command("sync_plugins", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert list(PluginTemplate.objects.order_by("slug").values()) == before
    for spec in PLATFORM_PLUGINS:
        plugin = PluginTemplate.objects.get(slug=spec["slug"])
        assert plugin.author == "Smooth Schedule" and plugin.version == "1.0.0"
        paragraphs = plugin.description.split("\n\n")
        bullets = [line for line in plugin.description.splitlines() if line.startswith("- ")]
        assert len(paragraphs) >= 3 and len(bullets) >= 3, plugin.slug


def test_sync_keeps_counts_and_restores_edited_descriptions(tenant_a):
    install(tenant_a, "calendar-feed")
    PluginTemplate.objects.filter(slug="calendar-feed").update(description="tampered")
    assert plugins_sync() == (0, 1)
    plugin = PluginTemplate.objects.get(slug="calendar-feed")
    assert plugin.install_count == 1 and plugin.description.startswith("Let your team")


def test_list_and_detail_include_the_full_description(tenant_a, api, make_user):
    client = api(HOST_A, make_user(Role.CUSTOMER, tenant_a))
    listing = client.get("/api/plugins/").json()
    assert {p["slug"] for p in listing["results"]} >= SLUGS
    reminders = next(p for p in listing["results"] if p["slug"] == "appointment-reminders")
    assert "\n- Sends a reminder" in reminders["description"]
    assert reminders["author"] == "Smooth Schedule" and reminders["version"] == "1.0.0"
    assert reminders["settings_schema"]["properties"]["offsets_minutes"]["default"] == [1440, 120]
    assert {"rating_average", "rating_count", "install_count", "category", "icon"} <= set(reminders)
    detail = client.get("/api/plugins/webhooks/").json()
    assert "Standard Webhooks" in detail["description"]
    assert client.get("/api/plugins/nope/").status_code == 404


def test_catalogue_filters_by_category_and_searches_descriptions(tenant_a, api, make_user):
    client = api(HOST_A, make_user(Role.TENANT_STAFF, tenant_a))
    customers = client.get("/api/plugins/", {"category": "CUSTOMERS"}).json()["results"]
    assert {p["slug"] for p in customers} == {"no-show-tracking", "review-requests"}
    # "daylight-saving" appears only in the daily agenda's full description.
    found = client.get("/api/plugins/", {"search": "daylight-saving"}).json()["results"]
    assert [p["slug"] for p in found] == ["daily-agenda"]
    assert client.get("/api/plugins/", {"category": "NOPE"}).status_code == 400


def test_platform_host_reads_the_catalogue_and_cannot_install(api, make_user):
    client = api(PLATFORM_HOST, make_user(Role.PLATFORM_SUPPORT))
    assert client.get("/api/plugins/").json()["count"] >= 6
    assert client.get("/api/plugins/webhooks/").status_code == 200
    assert client.post("/api/plugins/webhooks/install/", {}, format="json").status_code == 404


def test_install_needs_consent_to_every_permission(world_a, api):
    client = api(HOST_A, world_a.owner)
    refused = client.post(
        "/api/plugins/appointment-reminders/install/",
        {"accepted_permissions": ["appointments.read"]},
        format="json",
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "permissions_not_accepted"
    assert "customers.email" in refused.json()["error"]["fields"]["accepted_permissions"][0]
    done = client.post(
        "/api/plugins/appointment-reminders/install/", REMINDER_CONSENT, format="json"
    )
    assert done.status_code == 201
    body = done.json()
    assert body["settings"] == {"offsets_minutes": [1440, 120], "attach_ics": True}
    assert body["enabled"] is True and body["installed_by"] == world_a.owner.email
    again = client.post(
        "/api/plugins/appointment-reminders/install/", REMINDER_CONSENT, format="json"
    )
    assert again.status_code == 409


def test_plans_a_plugin_does_not_allow_are_refused(world_a, api):
    world_a.tenant.subscription_tier = "FREE"
    world_a.tenant.save()
    response = api(HOST_A, world_a.owner).post(
        "/api/plugins/webhooks/install/",
        {"accepted_permissions": ["appointments.read", "customers.read", "network.outbound"]},
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "tier_limit_exceeded"


def test_managers_configure_but_do_not_install(world_a, api):
    manager = api(HOST_A, world_a.manager)
    assert manager.post("/api/plugins/daily-agenda/install/", {}, format="json").status_code == 403
    install(world_a.tenant, "daily-agenda")
    changed = manager.patch(
        "/api/installed-plugins/daily-agenda/", {"settings": {"hour": 6}}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["settings"] == {"hour": 6}
    assert manager.delete("/api/installed-plugins/daily-agenda/").status_code == 403
    staff = api(HOST_A, world_a.staff)
    assert staff.get("/api/installed-plugins/").json()["count"] == 1
    assert (
        staff.patch(
            "/api/installed-plugins/daily-agenda/", {"enabled": False}, format="json"
        ).status_code
        == 403
    )


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"hour": 25}, "settings.hour"),
        ({"hour": "seven"}, "settings.hour"),
        ({"colour": "red"}, "settings.colour"),
    ],
)
def test_settings_are_validated_by_the_plugins_json_schema(world_a, api, settings, field):
    install(world_a.tenant, "daily-agenda")
    response = api(HOST_A, world_a.manager).patch(
        "/api/installed-plugins/daily-agenda/", {"settings": settings}, format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_settings" and field in error["fields"]
    assert PluginInstallation.objects.get(plugin__slug="daily-agenda").settings == {"hour": 7}


def test_disabling_cancels_scheduled_work_and_enabling_brings_it_back(world_a, api):
    install(world_a.tenant, "daily-agenda")
    assert DueJob.objects.filter(tenant=world_a.tenant, kind="agenda").count() == 1
    client = api(HOST_A, world_a.manager)
    client.patch("/api/installed-plugins/daily-agenda/", {"enabled": False}, format="json")
    assert not DueJob.objects.filter(tenant=world_a.tenant, kind="agenda").exists()
    client.patch("/api/installed-plugins/daily-agenda/", {"enabled": True}, format="json")
    assert DueJob.objects.filter(tenant=world_a.tenant, kind="agenda").count() == 1


def test_uninstall_removes_data_jobs_and_unsent_deliveries(world_a, api):
    install(world_a.tenant, "webhooks")
    install(world_a.tenant, "appointment-reminders")
    with tenant_context(world_a.tenant):
        WebhookEndpoint.objects.create(url="https://93.184.215.14/a", secret="whsec_AAAA")
    event = OutboxEvent.objects.create(tenant=world_a.tenant, kind="appointment.created")
    pending = Delivery.objects.create(
        event=event, tenant=world_a.tenant, plugin="webhooks", channel="WEBHOOK", recipient="x"
    )
    assert DueJob.objects.filter(tenant=world_a.tenant, plugin="appointment-reminders").exists()
    client = api(HOST_A, world_a.owner)
    assert client.delete("/api/installed-plugins/webhooks/").status_code == 204
    assert client.delete("/api/installed-plugins/appointment-reminders/").status_code == 204
    with tenant_context(world_a.tenant):
        assert not WebhookEndpoint.objects.exists()
    assert not DueJob.objects.filter(tenant=world_a.tenant).exists()
    pending.refresh_from_db()
    assert pending.status == "CANCELLED"
    assert PluginTemplate.objects.get(slug="webhooks").install_count == 0
    assert client.delete("/api/installed-plugins/webhooks/").status_code == 404


def test_one_rating_per_tenant_changeable_and_averaged(world_a, world_b, api):
    client_a = api(HOST_A, world_a.manager)
    assert (
        client_a.put("/api/plugins/webhooks/rating/", {"score": 2}, format="json").status_code
        == 200
    )
    assert (
        client_a.put(
            "/api/plugins/webhooks/rating/", {"score": 5, "comment": "Great"}, format="json"
        ).status_code
        == 200
    )
    PluginRating.objects.create(
        tenant=world_b.tenant, plugin=PluginTemplate.objects.get(slug="webhooks"), score=1
    )
    api(HOST_A, world_a.owner).put("/api/plugins/webhooks/rating/", {"score": 4}, format="json")
    plugin = PluginTemplate.objects.get(slug="webhooks")
    assert PluginRating.objects.filter(plugin=plugin, tenant=world_a.tenant).count() == 1
    assert plugin.rating_count == 2 and str(plugin.rating_average) == "2.50"
    bad = client_a.put("/api/plugins/webhooks/rating/", {"score": 6}, format="json")
    assert bad.status_code == 400 and "score" in bad.json()["error"]["fields"]
