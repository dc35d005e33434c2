"""Availability through the selector (fixed `now`, DST dates) and through the API."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments.selectors import availability_for
from appointments.services import blocker_create
from catalog.services import service_create
from conftest import HOST_A
from resources.models import DateOverride
from resources.services import resource_create


def local_starts(result, tz):
    return [datetime.fromtimestamp(s.start, tz) for s in result.slots]


def one_resource_service(world, zone, hours=(time(9), time(17)), **service_fields):
    resource = resource_create(
        tenant=world.tenant,
        actor=world.owner,
        name=f"Desk {zone}",
        type="EQUIPMENT",
        timezone=zone,
        working_hours=[
            {"weekday": d, "start_time": hours[0], "end_time": hours[1]} for d in range(7)
        ],
    )
    fields = {"duration_minutes": 60, "price": Decimal("10"), "max_advance_days": 730}
    fields.update(service_fields)
    service = service_create(
        actor=world.owner,
        name=f"Desk time {zone}",
        requirements=[{"resource_type": "EQUIPMENT", "eligible_resources": [resource]}],
        **fields,
    )
    return resource, service


@pytest.mark.parametrize(
    ("zone", "spring", "autumn"),
    [
        ("Europe/Berlin", date(2027, 3, 28), date(2027, 10, 31)),
        ("America/New_York", date(2027, 3, 14), date(2027, 11, 7)),
    ],
)
def test_working_day_is_right_on_both_sides_of_each_dst_change(world_a, zone, spring, autumn):
    tz = ZoneInfo(zone)
    _, service = one_resource_service(world_a, zone)
    for change in (spring, autumn):
        result = availability_for(
            service=service,
            date_from=change - timedelta(days=1),
            date_to=change + timedelta(days=1),
            tz=tz,
            now=datetime(2027, 1, 1, tzinfo=tz),
            step_minutes=60,
        )
        starts = local_starts(result, tz)
        by_day = {}
        for start in starts:
            by_day.setdefault(start.date(), []).append(start.strftime("%H:%M"))
        expected = [f"{h:02d}:00" for h in range(9, 17)]
        assert by_day == {change + timedelta(days=d): expected for d in (-1, 0, 1)}
        offsets = {start.utcoffset() for start in starts}
        assert len(offsets) == 2  # the same wall-clock hours at two different UTC offsets


@pytest.mark.parametrize(
    ("zone", "day", "expected"),
    [
        ("Europe/Berlin", date(2027, 3, 28), ["01:00+0100", "03:00+0200"]),
        (
            "Europe/Berlin",
            date(2027, 10, 31),
            ["01:00+0200", "02:00+0200", "02:00+0100", "03:00+0100"],
        ),
        ("America/New_York", date(2027, 3, 14), ["01:00-0500", "03:00-0400"]),
        (
            "America/New_York",
            date(2027, 11, 7),
            ["01:00-0400", "01:00-0500", "02:00-0500", "03:00-0500"],
        ),
    ],
)
def test_night_shift_across_the_change_has_the_real_number_of_hours(world_a, zone, day, expected):
    tz = ZoneInfo(zone)
    _, service = one_resource_service(world_a, zone, hours=(time(1), time(4)))
    result = availability_for(
        service=service,
        date_from=day,
        date_to=day,
        tz=tz,
        now=datetime(2027, 1, 1, tzinfo=tz),
        step_minutes=60,
    )
    got = [s.strftime("%H:%M%z") for s in local_starts(result, tz)]
    assert got == expected


def select(world, **kwargs):
    defaults = {
        "service": world.cut,
        "date_from": world.day,
        "date_to": world.day,
        "tz": ZoneInfo("UTC"),
        "now": datetime.combine(world.day - timedelta(days=7), time(0), tzinfo=ZoneInfo("UTC")),
        "step_minutes": 60,
    }
    defaults.update(kwargs)
    return availability_for(**defaults)


def starts_and_resources(result):
    return [
        (datetime.fromtimestamp(s.start, ZoneInfo("UTC")).hour, s.resource_ids)
        for s in result.slots
    ]


def test_working_hours_existing_appointments_and_resource_choice(world_a):
    got = starts_and_resources(select(world_a))
    ana, ben = world_a.stylist.pk, world_a.stylist2.pk
    # Open 08-20, a 60-minute cut: 08..19; at 10 both stylists are booked.
    assert [hour for hour, _ in got] == [8, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19]
    assert dict(got)[9] == (ana,)
    blocker_create(
        tenant=world_a.tenant,
        actor=world_a.owner,
        resource=world_a.stylist,
        starts_at=world_a.at(12),
        ends_at=world_a.at(14),
    )
    got = dict(starts_and_resources(select(world_a)))
    assert got[12] == (ben,) and got[13] == (ben,) and got[14] == (ana,)


def test_date_override_closes_or_changes_the_day(world_a):
    for stylist in (world_a.stylist, world_a.stylist2):
        DateOverride.objects.create(resource=stylist, date=world_a.day, is_closed=True)
    assert select(world_a).slots == []
    DateOverride.objects.filter(date=world_a.day).delete()
    DateOverride.objects.create(
        resource=world_a.stylist, date=world_a.day, start_time=time(6), end_time=time(8)
    )
    hours = [hour for hour, _ in starts_and_resources(select(world_a))]
    assert hours[:2] == [6, 7]


def test_buffers_and_multi_resource_slots(world_a):
    # Treatment: 30 minutes, 10 before and 5 after, needs a stylist AND the room. Both stylists
    # are booked 10:00-11:00 and the room is blocked 12:00-13:00: the hold [start - 10 min,
    # start + 35 min) must fit between them.
    result = select(world_a, service=world_a.treatment, step_minutes=5)
    starts = {
        datetime.fromtimestamp(s.start, ZoneInfo("UTC")).strftime("%H:%M") for s in result.slots
    }
    assert {"11:10", "11:25", "13:10"} <= starts
    assert not {"11:05", "11:30", "12:00", "13:05"} & starts
    assert all(len(s.resource_ids) == 2 for s in result.slots)
    assert all(world_a.room.pk in s.resource_ids for s in result.slots)


def test_minimum_notice_and_horizon(world_a):
    now = world_a.at(11, 30)
    world_a.cut.min_notice_minutes = 120
    hours = [h for h, _ in starts_and_resources(select(world_a, now=now))]
    assert hours[0] == 14  # 13:30 is the earliest; the grid's next start is 14:00
    world_a.cut.min_notice_minutes = 0
    world_a.cut.max_advance_days = 1
    far = select(world_a, now=world_a.at(9) - timedelta(days=2))
    assert far.slots == []


def test_a_long_range_costs_the_same_number_of_queries_as_one_day(world_a):
    counts = []
    for days in (0, 61):
        with CaptureQueriesContext(connection) as queries:
            select(world_a, date_to=world_a.day + timedelta(days=days))
        # django-tenants re-sends SET search_path per cursor; count the real statements.
        counts.append(sum(not q["sql"].startswith("SET search_path") for q in queries))
    # requirements, eligible resources, per-resource terms, hours, date overrides, allocations,
    # closures
    assert counts == [7, 7]


def get(client, world, **params):
    query = {"service": str(world.cut.public_id), "start": str(world.day), "end": str(world.day)}
    query.update(params)
    return client.get("/api/availability/", query)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"end": "2026-01-01"}, "end"),  # before start
        ({"start": "2030-01-01", "end": "2030-03-05"}, "end"),  # 64 days
        ({"timezone": "Mars/Base"}, "timezone"),
        ({"service": "00000000-0000-4000-8000-000000000000"}, "service"),
        ({"start": "someday"}, "start"),
        ({"step_minutes": 0}, "step_minutes"),
    ],
)
def test_bad_availability_queries_are_400(world_a, api, params, field):
    response = get(api(HOST_A, world_a.customer_user), world_a, **params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert field in response.json()["error"]["fields"]


def test_62_days_is_allowed_and_the_callers_timezone_is_used(world_a, api):
    client = api(HOST_A, world_a.customer_user)
    response = get(client, world_a, end=str(world_a.day + timedelta(days=61)))
    assert response.status_code == 200
    tokyo = get(client, world_a, timezone="Asia/Tokyo", step_minutes=60).json()
    assert tokyo["timezone"] == "Asia/Tokyo"
    assert tokyo["slots"][0]["starts_at"].endswith("+09:00")
    # Tokyo's day starts at 15:00 UTC the day before, while the stylists work until 20:00 UTC.
    assert tokyo["slots"][0]["starts_at"] == f"{world_a.day}T00:00:00+09:00"
