"""Recurring series over the API: all or nothing, or the free ones with the conflicts reported;
cancel and move one occurrence, this and the following ones, or all; the iCalendar feed."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from appointments.ical import resource_calendar_feed
from appointments.models import Allocation, Appointment, AppointmentSeries, GroupSession
from appointments.services import blocker_create
from appointments.services.series import series_book
from appointments.tests.group import group_service, one_to_one_service, studio
from appointments.tests.test_booking import overlapping_allocations
from conftest import HOST_A, connection

WEEKLY_4 = "FREQ=WEEKLY;COUNT=4"


@pytest.fixture
def lesson(world_a):
    room = studio(world_a)
    return one_to_one_service(world_a, rooms=[room]), room


def _book(client, world, service, *, rule=WEEKLY_4, start=None, **extra):
    body = {
        "service": str(service.public_id), "customer": str(world.customer.public_id),
        "starts_at": (start or world.at(9)).isoformat(), "rrule": rule, **extra,
    }  # fmt: skip
    return client.post("/api/appointment-series/", body, format="json")


def _block_third_week(world, room):
    blocker_create(
        tenant=world.tenant, actor=world.owner, resource=room,
        starts_at=world.at(9, days=14), ends_at=world.at(10, days=14),
    )  # fmt: skip


def test_a_series_books_one_real_appointment_per_occurrence(world_a, lesson, api):
    service, room = lesson
    connection.set_schema_to_public()
    answer = _book(api(HOST_A, world_a.owner), world_a, service)
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["rrule"] == WEEKLY_4 and body["conflicts"] == []
    starts = [datetime.fromisoformat(o["starts_at"]) for o in body["occurrences"]]
    assert starts == [world_a.at(9, days=7 * k) for k in range(4)]
    assert {o["series"] for o in body["occurrences"]} == {body["id"]}
    connection.set_tenant(world_a.tenant)
    series = AppointmentSeries.objects.get(public_id=body["id"])
    assert Allocation.objects.filter(appointment__series=series, resource=room).count() == 4


def test_a_series_is_all_or_nothing_by_default(world_a, lesson, api):
    service, room = lesson
    _block_third_week(world_a, room)
    connection.set_schema_to_public()
    answer = _book(api(HOST_A, world_a.owner), world_a, service)
    assert answer.status_code == 409
    error = answer.json()["error"]
    assert error["code"] == "series_conflict"
    assert len(error["fields"]["occurrences"]) == 1
    connection.set_tenant(world_a.tenant)
    assert not Appointment.objects.filter(service=service).exists()
    assert not AppointmentSeries.objects.filter(service=service).exists()


def test_asked_to_it_books_the_free_ones_and_reports_the_conflicts(world_a, lesson, api):
    service, room = lesson
    _block_third_week(world_a, room)
    connection.set_schema_to_public()
    answer = _book(api(HOST_A, world_a.owner), world_a, service, book_free_only=True)
    assert answer.status_code == 201
    body = answer.json()
    assert len(body["occurrences"]) == 3
    assert [c["code"] for c in body["conflicts"]] == ["resource_busy"]
    connection.set_tenant(world_a.tenant)
    assert overlapping_allocations() == 0


@pytest.mark.parametrize(
    ("rule", "complaint"),
    [("FREQ=MONTHLY;COUNT=3", "FREQ must be"), ("FREQ=DAILY;COUNT=60", "COUNT must be")],
)
def test_a_rule_outside_the_subset_is_a_400_naming_the_rrule_field(
    world_a, lesson, api, rule, complaint
):
    connection.set_schema_to_public()
    answer = _book(api(HOST_A, world_a.owner), world_a, lesson[0], rule=rule)
    assert answer.status_code == 400
    assert complaint in answer.json()["error"]["fields"]["rrule"][0]


def test_cancel_this_following_and_all(world_a, lesson, api):
    service, _ = lesson
    connection.set_schema_to_public()
    client = api(HOST_A, world_a.owner)
    series = _book(client, world_a, service, rule="FREQ=DAILY;COUNT=5").json()
    ids = [o["id"] for o in series["occurrences"]]
    url = f"/api/appointment-series/{series['id']}/cancel/"

    this = client.post(url, {"scope": "this", "occurrence": ids[1]}, format="json")
    assert [a["id"] for a in this.json()["appointments"]] == [ids[1]]
    following = client.post(url, {"scope": "following", "occurrence": ids[3]}, format="json")
    assert [a["id"] for a in following.json()["appointments"]] == ids[3:]
    rest = client.post(url, {"scope": "all"}, format="json")
    assert [a["id"] for a in rest.json()["appointments"]] == [ids[0], ids[2]]
    nothing = client.post(url, {"scope": "all"}, format="json")
    assert (nothing.status_code, nothing.json()["error"]["code"]) == (400, "invalid_transition")
    missing = client.post(url, {"scope": "this"}, format="json")
    assert "occurrence" in missing.json()["error"]["fields"]


def test_a_customer_cancels_its_own_series_but_cannot_move_it(world_a, lesson, api):
    service, _ = lesson
    connection.set_schema_to_public()
    mine = api(HOST_A, world_a.customer_user)
    booked = mine.post(
        "/api/appointment-series/",
        {"service": str(service.public_id), "starts_at": world_a.at(9).isoformat(),
         "rrule": "FREQ=DAILY;COUNT=2"}, format="json",
    )  # fmt: skip
    assert booked.status_code == 201
    assert "notes" not in booked.json()["occurrences"][0]
    url = f"/api/appointment-series/{booked.json()['id']}/"
    move = mine.post(url + "reschedule/", {"scope": "all", "starts_at": world_a.at(10).isoformat()},
                     format="json")  # fmt: skip
    assert move.status_code == 403
    assert mine.post(url + "cancel/", {"scope": "all"}, format="json").status_code == 200
    other = api(HOST_A, world_a.owner).get("/api/appointment-series/")
    assert booked.json()["id"] in {s["id"] for s in other.json()["results"]}


def test_moving_this_and_the_following_keeps_the_local_time_and_is_all_or_nothing(
    world_a, lesson, api
):
    service, room = lesson
    connection.set_schema_to_public()
    client = api(HOST_A, world_a.owner)
    series = _book(client, world_a, service, rule="FREQ=DAILY;COUNT=4").json()
    ids = [o["id"] for o in series["occurrences"]]
    url = f"/api/appointment-series/{series['id']}/reschedule/"
    # A day later each: occurrences move onto each other's old times.
    moved = client.post(
        url, {"scope": "following", "occurrence": ids[1],
              "starts_at": world_a.at(9, days=2).isoformat()}, format="json",
    )  # fmt: skip
    assert moved.status_code == 200, moved.json()
    tz = ZoneInfo(world_a.tenant.timezone)
    connection.set_tenant(world_a.tenant)
    days = [Appointment.objects.get(public_id=i).starts_at.astimezone(tz) for i in ids]
    assert [(d - days[0]).days for d in days] == [0, 2, 3, 4]
    assert {d.hour for d in days} == {9}
    blocker_create(tenant=world_a.tenant, actor=world_a.owner, resource=room,
                   starts_at=world_a.at(12, days=4), ends_at=world_a.at(13, days=4))  # fmt: skip
    connection.set_schema_to_public()
    refused = client.post(url, {"scope": "all", "starts_at": world_a.at(12).isoformat()},
                          format="json")  # fmt: skip
    assert refused.status_code == 409
    connection.set_tenant(world_a.tenant)
    assert [Appointment.objects.get(public_id=i).starts_at.astimezone(tz) for i in ids] == days


def test_the_calendar_feed_exports_a_series_with_its_rule_and_exdates(world_a, lesson, api):
    service, room = lesson
    connection.set_schema_to_public()
    client = api(HOST_A, world_a.owner)
    series = _book(client, world_a, service, timezone="Europe/Berlin").json()
    ids = [o["id"] for o in series["occurrences"]]
    url = f"/api/appointment-series/{series['id']}/"
    client.post(url + "cancel/", {"scope": "this", "occurrence": ids[2]}, format="json")
    client.post(url + "reschedule/", {"scope": "this", "occurrence": ids[1],
                                      "starts_at": world_a.at(11, days=7).isoformat()},
                format="json")  # fmt: skip
    connection.set_tenant(world_a.tenant)
    feed = Calendar.from_ical(resource_calendar_feed(resource=room, host=HOST_A))
    events = [e for e in feed.walk("VEVENT") if str(e["uid"]).startswith("series-")]
    master = next(e for e in events if "rrule" in e)
    assert master["rrule"].to_ical().decode() == WEEKLY_4
    exdates = [d.dt for d in master["exdate"].dts]
    assert exdates == [world_a.at(9, days=14)]
    assert str(master["dtstart"].params["TZID"]) == "Europe/Berlin"  # the rule's wall clock
    assert "VTIMEZONE" in feed.to_ical().decode()
    (moved,) = [e for e in events if "recurrence-id" in e]
    assert moved["recurrence-id"].dt == world_a.at(9, days=7)
    assert moved["dtstart"].dt == world_a.at(11, days=7)
    assert all(str(e["uid"]) == f"series-{series['id']}@{HOST_A}" for e in events)


def test_a_series_of_a_group_service_takes_a_seat_in_each_session(world_a):
    service = group_service(world_a, capacity=5, rooms=[studio(world_a)])
    booked = series_book(
        tenant=world_a.tenant, actor=world_a.owner, service=service, customer=world_a.customer,
        starts_at=world_a.at(18), rule="FREQ=WEEKLY;COUNT=3",
        tz=ZoneInfo(world_a.tenant.timezone),
    )  # fmt: skip
    assert len(booked.appointments) == 3
    assert GroupSession.objects.filter(service=service, seats_taken=1).count() == 3
