"""The marketplace and the outbox in the admin: operators see the catalogue, installs per
tenant, ratings and deliveries; only administrators redeliver."""

from __future__ import annotations

import pytest

from conftest import PLATFORM_HOST
from notifications.models import Delivery, OutboxEvent
from plugins.tests.helpers import install
from users.roles import Role

PAGES = [
    "/admin/plugins/plugintemplate/", "/admin/plugins/plugininstallation/",
    "/admin/plugins/pluginrating/", "/admin/notifications/delivery/",
    "/admin/notifications/outboxevent/", "/admin/notifications/duejob/",
]  # fmt: skip


@pytest.mark.parametrize("role", [Role.SUPERUSER, Role.PLATFORM_SUPPORT])
def test_operators_see_the_marketplace_pages(browser, make_user, tenant_a, role):
    install(tenant_a, "daily-agenda")
    client = browser(PLATFORM_HOST, make_user(role))
    for page in PAGES:
        assert client.get(page).status_code == 200, page
    listing = client.get("/admin/plugins/plugininstallation/").content.decode()
    assert "Alpha Salon" in listing and "Daily Agenda" in listing


def test_administrators_redeliver_from_the_delivery_log(browser, make_user, tenant_a):
    event = OutboxEvent.objects.create(tenant=tenant_a, kind="appointment.created")
    delivery = Delivery.objects.create(
        event=event, tenant=tenant_a, plugin="webhooks", channel="WEBHOOK", recipient="x",
        status="FAILED",
    )  # fmt: skip
    form = {"action": "redeliver", "_selected_action": [delivery.pk]}
    support = browser(PLATFORM_HOST, make_user(Role.PLATFORM_SUPPORT))
    support.post("/admin/notifications/delivery/", form)
    delivery.refresh_from_db()
    assert delivery.status == "FAILED"
    admin_client = browser(PLATFORM_HOST, make_user(Role.SUPERUSER))
    assert admin_client.post("/admin/notifications/delivery/", form).status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == "PENDING"
