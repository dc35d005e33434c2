from datetime import timedelta

import pytest
from icalendar import Calendar

from appointments.services import appointment_transition
from conftest import HOST_A, HOST_B
from plugins.tests.helpers import install


@pytest.fixture(autouse=True)
def _calendar_feed_installed(tenant_a, tenant_b):
    """The feeds belong to the calendar-feed plugin (tests without it: plugins/tests)."""
    install(tenant_a, "calendar-feed")
    install(tenant_b, "calendar-feed")


def feed_url(world):
    return f"/api/calendar/{world.stylist.ical_token}.ics"


def events(response):
    calendar = Calendar.from_ical(response.content)
    return [c for c in calendar.walk() if c.name == "VEVENT"]


def test_feed_is_valid_icalendar_in_utc_without_credentials(world_a, api):
    response = api(HOST_A).get(feed_url(world_a))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    assert str(calendar["VERSION"]) == "2.0" and calendar["PRODID"]
    (event,) = events(response)
    start = event.decoded("DTSTART")
    assert start == world_a.appointment.starts_at and start.utcoffset() == timedelta(0)
    assert b"DTSTART:" in response.content and b"Z\r\n" in response.content  # UTC form
    assert str(event["UID"]).startswith(f"appointment-{world_a.appointment.public_id}")
    assert str(event["SUMMARY"]) == "Haircut: Cara Customer"


def test_cancelled_appointments_leave_the_feed(world_a, api):
    appointment_transition(
        tenant=world_a.tenant, actor=world_a.owner, appointment=world_a.appointment, to="CANCELLED"
    )
    assert events(api(HOST_A).get(feed_url(world_a))) == []


def test_blockers_show_as_busy_time(world_a, api):
    world_a.room.ical_token = "room-token-for-test"
    world_a.room.save()
    (event,) = events(api(HOST_A).get("/api/calendar/room-token-for-test.ics"))
    assert str(event["SUMMARY"]) == "Blocked: Cleaning"


def test_rotating_the_secret_revokes_the_old_url_and_delete_turns_it_off(world_a, api):
    old = feed_url(world_a)
    client = api(HOST_A, world_a.manager)
    rotated = client.post(f"/api/resources/{world_a.stylist.public_id}/calendar-feed/")
    assert rotated.status_code == 201
    new_url = rotated.json()["url"]
    assert new_url.startswith("http://alpha.localhost/api/calendar/")
    stale = api(HOST_A).get(old)
    assert stale.status_code == 404
    assert stale.json()["error"]["code"] == "not_found"
    assert api(HOST_A).get(new_url.removeprefix("http://alpha.localhost")).status_code == 200
    revoked = client.delete(f"/api/resources/{world_a.stylist.public_id}/calendar-feed/")
    assert revoked.status_code == 204
    off = api(HOST_A).get(new_url.removeprefix("http://alpha.localhost"))
    assert off.status_code == 404
    assert off.json()["error"]["code"] == "not_found"


def test_a_feed_secret_works_only_on_its_own_tenants_host(world_a, api, tenant_b):
    elsewhere = api(HOST_B).get(feed_url(world_a))
    assert elsewhere.status_code == 404
    assert elsewhere.json()["error"]["code"] == "not_found"
