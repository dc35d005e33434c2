"""Table tests of the pure interval functions (no database)."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from appointments.availability import (
    ResourceCalendar,
    free_slots,
    intersect,
    local_open_intervals,
    merge,
    resources_for_start,
    start_windows,
    subtract,
    to_epoch,
)

H = 3600


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ([], []),
        ([(5, 7), (1, 3)], [(1, 3), (5, 7)]),
        ([(1, 3), (3, 5)], [(1, 5)]),
        ([(1, 10), (2, 3)], [(1, 10)]),
        ([(4, 4), (1, 2)], [(1, 2)]),
    ],
)
def test_merge(given, expected):
    assert merge(given) == expected


@pytest.mark.parametrize(
    ("base", "cut", "expected"),
    [
        ([(0, 10)], [], [(0, 10)]),
        ([(0, 10)], [(2, 4)], [(0, 2), (4, 10)]),
        ([(0, 10)], [(0, 10)], []),
        ([(0, 10), (20, 30)], [(5, 25)], [(0, 5), (25, 30)]),
        ([(0, 10)], [(-5, 1), (9, 15)], [(1, 9)]),
        ([(0, 10)], [(10, 12)], [(0, 10)]),
    ],
)
def test_subtract(base, cut, expected):
    assert subtract(base, cut) == expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ([(0, 10)], [(5, 15)], [(5, 10)]),
        ([(0, 10), (20, 30)], [(5, 25)], [(5, 10), (20, 25)]),
        ([(0, 10)], [(10, 20)], []),
    ],
)
def test_intersect(a, b, expected):
    assert intersect(a, b) == expected


@pytest.mark.parametrize(
    ("open_", "busy", "before", "after", "expected"),
    [
        # 1h service in an 8h day: starts 0..7h (half-open, seconds)
        ([(0, 8 * H)], [], 0, 0, [(0, 7 * H + 1)]),
        # busy 2h-3h: starts up to 1h and from 3h
        ([(0, 8 * H)], [(2 * H, 3 * H)], 0, 0, [(0, H + 1), (3 * H, 7 * H + 1)]),
        # 15 min buffers on both sides widen the forbidden zone
        (
            [(0, 8 * H)],
            [(2 * H, 3 * H)],
            900,
            900,
            [(0, H - 900 + 1), (3 * H + 900, 7 * H + 1)],
        ),
        # too short an opening admits nothing
        ([(0, H - 1)], [], 0, 0, []),
    ],
)
def test_start_windows(open_, busy, before, after, expected):
    assert start_windows(open_=open_, busy=busy, duration=H, before=before, after=after) == expected


def calendar(rid, open_, busy=()):
    return ResourceCalendar(resource_id=rid, open_=list(open_), busy=list(busy))


def test_multi_resource_slot_needs_every_requirement_free_together():
    staff = [calendar(1, [(0, 4 * H)], [(0, H)])]  # free 1h-4h
    room = [calendar(2, [(0, 4 * H)], [(2 * H, 3 * H)])]  # free 0-2h, 3h-4h
    slots = free_slots(
        requirements=[staff, room], duration=H, before=0, after=0, step=H,
        tz=ZoneInfo("UTC"), earliest=0, latest=10 * H,
    )  # fmt: skip
    assert [(s.start, s.resource_ids) for s in slots] == [(H, (1, 2)), (3 * H, (1, 2))]


def test_distinct_resources_for_distinct_requirements():
    both = calendar(1, [(0, 2 * H)])
    only_second = calendar(2, [(0, 2 * H)])
    chosen = resources_for_start(
        requirements=[[both], [both, only_second]], start=0, duration=H, before=0, after=0
    )
    assert chosen == (1, 2)
    assert (
        resources_for_start(requirements=[[both], [both]], start=0, duration=H, before=0, after=0)
        is None
    )


def test_slots_follow_the_local_grid():
    kolkata = ZoneInfo("Asia/Kolkata")  # UTC+05:30
    opens = to_epoch(datetime(2026, 6, 1, 9, tzinfo=kolkata))
    slots = free_slots(
        requirements=[[calendar(1, [(opens, opens + 3 * H)])]], duration=H, before=0, after=0,
        step=H, tz=kolkata, earliest=0, latest=opens + 10 * H,
    )  # fmt: skip
    local = [datetime.fromtimestamp(s.start, kolkata).strftime("%H:%M") for s in slots]
    assert local == ["09:00", "10:00", "11:00"]


def test_override_replaces_the_weekly_hours_and_closed_means_closed():
    utc = ZoneInfo("UTC")
    weekly = {d: [(time(9), time(17))] for d in range(7)}
    monday, tuesday = date(2026, 6, 1), date(2026, 6, 2)
    got = local_open_intervals(
        tz=utc, first_day=monday, last_day=tuesday, weekly=weekly,
        overrides={monday: [(time(12), time(13))], tuesday: []},
    )  # fmt: skip
    noon = to_epoch(datetime(2026, 6, 1, 12, tzinfo=utc))
    assert got == [(noon, noon + H)]


@pytest.mark.parametrize(
    ("zone", "day", "real_hours"),
    [
        ("Europe/Berlin", date(2027, 3, 28), 2),  # 01:00-04:00 local, 02:00-03:00 skipped
        ("Europe/Berlin", date(2027, 10, 31), 4),  # 02:00-03:00 happens twice
        ("America/New_York", date(2027, 3, 14), 2),
        ("America/New_York", date(2027, 11, 7), 4),
    ],
)
def test_night_hours_across_dst_last_as_long_as_they_really_do(zone, day, real_hours):
    tz = ZoneInfo(zone)
    got = local_open_intervals(
        tz=tz, first_day=day, last_day=day, weekly={day.weekday(): [(time(1), time(4))]},
        overrides={},
    )  # fmt: skip
    assert [(end - start) // H for start, end in got] == [real_hours]
