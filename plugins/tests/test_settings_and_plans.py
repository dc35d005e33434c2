"""Plugin settings that are not what their schema means (a non-object, 7.0 for an integer) are
a 400 naming the field, never a 500; a plugin the tenant's current plan does not offer does
nothing, even if it was installed on a plan that did."""

from __future__ import annotations

import pytest

from appointments.services import appointment_transition
from conftest import HOST_A
from notifications.models import Delivery
from notifications.outbox import event_dispatch, events_due
from plugins.tests.helpers import install
from tenancy.models import Tenant


@pytest.mark.parametrize("value", [[], "x", 5])
def test_settings_that_are_not_an_object_are_a_400_naming_settings(world_a, api, value):
    install(world_a.tenant, "daily-agenda")
    response = api(HOST_A, world_a.manager).patch(
        "/api/installed-plugins/daily-agenda/", {"settings": value}, format="json"
    )
    assert response.status_code == 400
    assert "settings" in response.json()["error"]["fields"]


def test_a_float_for_an_integer_setting_is_a_400_when_configuring(world_a, api):
    install(world_a.tenant, "daily-agenda")
    response = api(HOST_A, world_a.manager).patch(
        "/api/installed-plugins/daily-agenda/", {"settings": {"hour": 7.0}}, format="json"
    )
    assert response.status_code == 400
    assert "settings.hour" in response.json()["error"]["fields"]


def test_a_float_for_an_integer_setting_is_a_400_when_installing(world_a, api):
    response = api(HOST_A, world_a.owner).post(
        "/api/plugins/daily-agenda/install/",
        {"accepted_permissions": ["appointments.read", "staff.email"], "settings": {"hour": 7.0}},
        format="json",
    )
    assert response.status_code == 400
    assert "settings.hour" in response.json()["error"]["fields"]


def test_a_paid_plugin_stops_working_after_a_downgrade(world_a, api):
    install(world_a.tenant, "webhooks")
    created = api(HOST_A, world_a.manager).post(
        "/api/webhooks/endpoints/", {"url": "https://93.184.215.14/hook"}, format="json"
    )
    assert created.status_code == 201
    tenant = Tenant.objects.get(pk=world_a.tenant.pk)
    tenant.subscription_tier = "FREE"
    tenant.save()
    more = api(HOST_A, world_a.manager).post(
        "/api/webhooks/endpoints/", {"url": "https://93.184.215.14/other"}, format="json"
    )
    assert more.status_code == 409 and more.json()["error"]["code"] == "plugin_not_installed"
    appointment_transition(
        tenant=tenant, actor=world_a.owner, appointment=world_a.appointment, to="CANCELLED"
    )
    for event_id in events_due():
        event_dispatch(event_id)
    assert not Delivery.objects.filter(tenant=tenant, plugin="webhooks").exists()
