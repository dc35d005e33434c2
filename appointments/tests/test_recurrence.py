"""The RRULE subset (pure, table-tested) and a series that keeps its wall-clock time across both
DST changes of two timezones, booked for real."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from appointments.models import Appointment
from appointments.recurrence import RuleError, occurrences, rule_parse, shifted
from appointments.services.series import series_book
from appointments.tests.group import one_to_one_service, studio

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("FREQ=WEEKLY;COUNT=3", "FREQ=WEEKLY;COUNT=3"),
        ("RRULE:freq=weekly;byday=we,mo;count=4", "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=4"),
        ("FREQ=DAILY;INTERVAL=2;UNTIL=20270110", "FREQ=DAILY;INTERVAL=2;UNTIL=20270110"),
        ("FREQ=DAILY;INTERVAL=1;UNTIL=20270110T120000Z", "FREQ=DAILY;UNTIL=20270110T120000Z"),
    ],
)
def test_rules_in_the_subset_are_read_and_written_back_canonically(text, canonical):
    assert rule_parse(text).as_text() == canonical


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("", "Give a rule"),
        ("FREQ=MONTHLY;COUNT=2", "FREQ must be DAILY or WEEKLY"),
        ("FREQ=WEEKLY", "exactly one of COUNT"),
        ("FREQ=WEEKLY;COUNT=2;UNTIL=20270101", "exactly one of COUNT"),
        ("FREQ=WEEKLY;COUNT=53", "COUNT must be a whole number from 1 to 52"),
        ("FREQ=WEEKLY;COUNT=0", "COUNT must be"),
        ("FREQ=WEEKLY;COUNT=-1", "COUNT must be"),
        ("FREQ=WEEKLY;INTERVAL=x;COUNT=2", "INTERVAL must be"),
        ("FREQ=WEEKLY;BYDAY=1MO;COUNT=2", "BYDAY lists plain weekdays"),
        ("FREQ=WEEKLY;BYMONTH=1;COUNT=2", "BYMONTH not supported"),
        ("FREQ=WEEKLY;COUNT=2;COUNT=3", "COUNT is given twice"),
        ("FREQ=WEEKLY;UNTIL=2027-01-01", "UNTIL must be a date"),
        ("FREQ=WEEKLY;UNTIL=20271399", "UNTIL must be a date"),
        ("FREQ", "is not NAME=VALUE"),
    ],
)
def test_rules_outside_the_subset_are_refused_with_the_reason(text, complaint):
    with pytest.raises(RuleError, match=complaint):
        rule_parse(text)


def test_until_may_give_at_most_52_occurrences():
    start = datetime(2027, 1, 4, 9, tzinfo=BERLIN)
    daily_until = rule_parse("FREQ=DAILY;UNTIL=20270301")
    with pytest.raises(RuleError, match="more than 52"):
        occurrences(rule=daily_until, first_start=start, tz=BERLIN)
    assert len(occurrences(rule=rule_parse("FREQ=DAILY;COUNT=52"), first_start=start, tz=BERLIN))


def test_byday_expands_in_local_time_and_until_is_inclusive():
    start = datetime(2027, 1, 4, 9, tzinfo=BERLIN)  # a Monday
    rule = rule_parse("FREQ=WEEKLY;BYDAY=MO,TH;UNTIL=20270114")
    got = occurrences(rule=rule, first_start=start, tz=BERLIN)
    assert [d.date() for d in got] == [date(2027, 1, 4), date(2027, 1, 7), date(2027, 1, 11),
                                       date(2027, 1, 14)]  # fmt: skip
    assert {d.astimezone(BERLIN).hour for d in got} == {9}


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York"])
def test_a_weekly_rule_keeps_its_wall_clock_time_across_both_dst_changes(zone):
    tz = ZoneInfo(zone)
    start = datetime(2027, 1, 5, 9, tzinfo=tz)
    got = occurrences(rule=rule_parse("FREQ=WEEKLY;COUNT=52"), first_start=start, tz=tz)
    assert len(got) == 52
    assert {(d.astimezone(tz).hour, d.astimezone(tz).minute) for d in got} == {(9, 0)}
    offsets = [d.astimezone(tz).utcoffset() for d in got]
    # Winter, summer, winter again: the UTC instant moves twice by an hour.
    changes = sum(1 for a, b in itertools.pairwise(offsets) if a != b)
    assert changes == 2 and len(set(offsets)) == 2
    assert {d.astimezone(UTC).hour for d in got} == {9 - int(o.total_seconds() // 3600)
                                                    for o in set(offsets)}  # fmt: skip


def test_a_wall_clock_shift_is_the_same_local_time_after_a_dst_change():
    before = datetime(2027, 3, 22, 9, tzinfo=BERLIN)  # a week before the spring change
    after = shifted(before, by=timedelta(days=7, hours=1), tz=BERLIN)
    assert (after.astimezone(BERLIN).day, after.astimezone(BERLIN).hour) == (29, 10)
    assert after.astimezone(UTC) - before.astimezone(UTC) == timedelta(days=7)  # an hour skipped


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York"])
def test_a_booked_weekly_series_stays_at_nine_local_across_both_changes(world_a, zone):
    """52 real appointments, each under the exclusion constraint, at 09:00 on the business's
    clock in ``zone`` whatever the season."""
    tz = ZoneInfo(zone)
    room = studio(world_a, name=f"Room in {zone}", timezone=zone)
    lesson = one_to_one_service(world_a, rooms=[room])
    first_day = (datetime.now(tz) + timedelta(days=2)).date()
    first = datetime.combine(first_day, datetime.min.time()).replace(hour=9, tzinfo=tz)
    booked = series_book(
        tenant=world_a.tenant, actor=world_a.owner, service=lesson, customer=world_a.customer,
        starts_at=first, rule="FREQ=WEEKLY;COUNT=52", tz=tz,
    )  # fmt: skip
    stored = list(Appointment.objects.filter(series=booked.series).order_by("starts_at"))
    assert len(stored) == 52
    assert {a.starts_at.astimezone(tz).strftime("%a %H:%M") for a in stored} == {
        first.strftime("%a 09:00")
    }
    offsets = {a.starts_at.astimezone(tz).utcoffset() for a in stored}
    assert len(offsets) == 2  # a year holds both changes: two UTC offsets, one wall-clock time
    assert all(a.allocations.get().resource == room for a in stored)
