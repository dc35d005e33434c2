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
    install(tenant_a, "webhooks")  # a delivery of a plugin no longer installed is not redelivered
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


def test_only_superusers_see_the_signed_links_in_a_delivery_message(
    world_a, browser, make_user, api
):
    import re

    from appointments.services import appointment_transition
    from conftest import HOST_A
    from plugins.tests.helpers import drain

    install(world_a.tenant, "review-requests")
    appointment_transition(
        tenant=world_a.tenant, actor=world_a.owner, appointment=world_a.appointment, to="COMPLETED"
    )
    drain()
    delivery = Delivery.objects.get(tenant=world_a.tenant, plugin="review-requests")
    page = f"/admin/notifications/delivery/{delivery.pk}/change/"
    for role in (Role.PLATFORM_SUPPORT, Role.PLATFORM_MANAGER):
        content = browser(PLATFORM_HOST, make_user(role)).get(page).content.decode()
        assert "Review" in content or "review" in content  # the message is there, links cut
        assert "/api/reviews/submit/" not in content and "/api/unsubscribe/" not in content
        assert "[link removed]" in content
    content = browser(PLATFORM_HOST, make_user(Role.SUPERUSER)).get(page).content.decode()
    token = re.search(r"/api/reviews/submit/([^/\s\"&]+)/", content).group(1)
    assert (
        api(HOST_A).post(f"/api/reviews/submit/{token}/", {"rating": 5}, format="json").status_code
        == 201
    )
