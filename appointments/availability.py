"""The availability algorithm: pure interval arithmetic, no database, no Django.

Times are integer seconds since the epoch (UTC) and every interval is half-open ``[start, end)``;
lists of intervals are sorted and merged. Local wall-clock rules (working hours, date overrides)
become UTC intervals day by day through ``zoneinfo``, which is what makes DST transitions right:
a 09:00-17:00 day is 8 real hours on either side of a change, and a night spanning the change is
as long as the clock says it really is.

``appointments.selectors.availability_for`` loads the data (a fixed number of queries) and calls
``free_slots``; booking calls ``resources_for_start`` with the same calendars.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

Interval = tuple[int, int]


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sort and join overlapping or touching intervals; drop empty ones."""
    merged: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def subtract(base: Sequence[Interval], cut: Sequence[Interval]) -> list[Interval]:
    """``base`` minus ``cut``; both sorted and merged. One pass over both lists."""
    result: list[Interval] = []
    j = 0
    for start, end in base:
        while j < len(cut) and cut[j][1] <= start:
            j += 1
        cursor = start
        k = j
        while k < len(cut) and cut[k][0] < end:
            if cut[k][0] > cursor:
                result.append((cursor, cut[k][0]))
            cursor = max(cursor, cut[k][1])
            k += 1
        if cursor < end:
            result.append((cursor, end))
    return result


def intersect(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """The common part of two sorted, merged lists."""
    result: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            result.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return result


def to_epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def from_epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def local_open_intervals(
    *,
    tz: ZoneInfo,
    first_day: date,
    last_day: date,
    weekly: Mapping[int, Sequence[tuple[time, time]]],
    overrides: Mapping[date, Sequence[tuple[time, time]]],
) -> list[Interval]:
    """Opening hours from ``first_day`` to ``last_day`` (inclusive, local dates) as UTC intervals.

    ``weekly`` maps a weekday (Monday = 0) to its hours; ``overrides`` maps a date to the hours
    that replace the weekly ones (an empty list: closed). A wall-clock time that a DST jump skips
    is read as the moment the clock jumped past it (``zoneinfo``'s fold=0 reading).
    """
    intervals: list[Interval] = []
    day = first_day
    while day <= last_day:
        hours = overrides[day] if day in overrides else weekly.get(day.weekday(), ())
        for start, end in hours:
            opens = datetime.combine(day, start, tzinfo=tz)
            closes = datetime.combine(day, end, tzinfo=tz)
            intervals.append((to_epoch(opens), to_epoch(closes)))
        day += timedelta(days=1)
    return merge(intervals)


def start_windows(
    *, open_: Sequence[Interval], busy: Sequence[Interval], duration: int, before: int, after: int
) -> list[Interval]:
    """Every start ``s`` (as intervals of seconds) at which the service itself, ``[s, s +
    duration)``, fits in the opening hours and the hold, ``[s - before, s + duration + after)``,
    touches no busy interval. Buffers may reach outside opening hours but never into busy time.
    """
    # [a, b) open admits starts a..b-duration, i.e. the half-open [a, b - duration + 1).
    fits = [(a, b - duration + 1) for a, b in open_ if b - a >= duration]
    # Busy [x, y) forbids starts with s - before < y and s + duration + after > x.
    forbidden = merge((x - duration - after + 1, y + before) for x, y in busy)
    return subtract(fits, forbidden)


@dataclass
class ResourceCalendar:
    """One candidate resource: when it is open and when it is already held (UTC seconds), and
    its own duration for the service when it has one (``catalog.ServiceResourceOverride``)."""

    resource_id: int
    open_: list[Interval]
    busy: list[Interval]
    duration: int | None = None
    windows: list[Interval] = field(default_factory=list)
    prepared_for: int = 0
    _window_starts: list[int] = field(default_factory=list, repr=False)
    _busy_ends: list[int] = field(default_factory=list, repr=False)

    def prepare(self, *, duration: int, before: int, after: int) -> None:
        self.windows = start_windows(
            open_=self.open_, busy=self.busy, duration=duration, before=before, after=after
        )
        self.prepared_for = duration
        self._window_starts = [start for start, _ in self.windows]
        self._busy_ends = [end for _, end in self.busy]

    def admits(self, start: int) -> bool:
        index = bisect.bisect_right(self._window_starts, start) - 1
        return index >= 0 and start < self.windows[index][1]

    def is_open(self, start: int, duration: int) -> bool:
        """Whether ``[start, start + duration)`` lies in the opening hours, busy or not."""
        return any(a <= start and start + duration <= b for a, b in self.open_)

    def fits(self, start: int, *, duration: int, before: int, after: int) -> bool:
        """``admits`` for another duration than the one it was prepared for."""
        if not self.is_open(start, duration):
            return False
        # Busy intervals are merged, so their ends ascend too: the first ending after the hold
        # starts is the only one that could overlap it.
        index = bisect.bisect_right(self._busy_ends, start - before)
        return index == len(self.busy) or self.busy[index][0] >= start + duration + after


def combined_duration(chosen: Iterable[ResourceCalendar], default: int) -> int:
    """How long a booking holding ``chosen`` takes: the longest of their own durations, or the
    service's (``default``) when none has one."""
    return max((c.duration for c in chosen if c.duration is not None), default=default)


def _prepare(
    requirements: Sequence[Sequence[ResourceCalendar]], *, duration: int, before: int, after: int
) -> None:
    """Each calendar's start windows for the shortest booking it can be part of: its own
    duration, or (without one) the shortest any combination can take; ``_assign`` checks the
    combination's real length where it differs."""
    shortest = min(
        [duration, *(c.duration for cs in requirements for c in cs if c.duration is not None)]
    )
    for candidates in requirements:
        for calendar in candidates:
            own = calendar.duration if calendar.duration is not None else shortest
            calendar.prepare(duration=own, before=before, after=after)


@dataclass(frozen=True)
class Slot:
    start: int
    end: int
    resource_ids: tuple[int, ...]  # one per requirement, in requirement order


@dataclass(frozen=True)
class _Hold:
    """What ``_assign`` needs besides the start: the service's duration and buffers, and
    whether every candidate takes that duration (no resource has its own: nothing to re-check)."""

    duration: int
    before: int
    after: int
    uniform: bool


def _hold(
    requirements: Sequence[Sequence[ResourceCalendar]], *, duration: int, before: int, after: int
) -> _Hold:
    uniform = all(c.prepared_for == duration for cs in requirements for c in cs)
    return _Hold(duration, before, after, uniform)


def _assign(
    start: int,
    requirements: Sequence[Sequence[ResourceCalendar]],
    hold: _Hold,
    taken: tuple[ResourceCalendar, ...] = (),
    taken_ids: tuple[int, ...] = (),
) -> tuple[ResourceCalendar, ...] | None:
    """Pick one free resource per requirement, all distinct (depth-first; requirements are few),
    free for as long as the chosen combination takes."""
    if not requirements:
        if hold.uniform:
            return taken
        length = combined_duration(taken, hold.duration)
        if all(
            c.prepared_for == length
            or c.fits(start, duration=length, before=hold.before, after=hold.after)
            for c in taken
        ):
            return taken
        return None
    rest = requirements[1:]
    for calendar in requirements[0]:
        if calendar.resource_id not in taken_ids and calendar.admits(start):
            found = _assign(
                start, rest, hold, (*taken, calendar), (*taken_ids, calendar.resource_id)
            )
            if found is not None:
                return found
    return None


def _aligned_starts(
    window: Interval, *, step: int, tz: ZoneInfo, earliest: int, latest: int
) -> Iterator[int]:
    """Starts in ``window`` on the ``step`` grid of the local clock (counted from local midnight),
    between ``earliest`` and ``latest`` inclusive."""
    low, high = max(window[0], earliest), min(window[1] - 1, latest)
    if low > high:
        return
    local = from_epoch(low).astimezone(tz)
    since_midnight = local.hour * 3600 + local.minute * 60 + local.second
    candidate = low + (-since_midnight) % step
    while candidate <= high:
        yield candidate
        candidate += step


def free_slots(
    *,
    requirements: Sequence[Sequence[ResourceCalendar]],
    duration: int,
    before: int,
    after: int,
    step: int,
    tz: ZoneInfo,
    earliest: int,
    latest: int,
) -> list[Slot]:
    """Every start on the grid between ``earliest`` and ``latest`` at which each requirement has
    a free resource, distinct resources for distinct requirements, with the resources chosen."""
    if not requirements or any(not candidates for candidates in requirements):
        return []
    _prepare(requirements, duration=duration, before=before, after=after)
    hold = _hold(requirements, duration=duration, before=before, after=after)
    per_requirement = [
        merge(w for c in candidates for w in c.windows) for candidates in requirements
    ]
    common = per_requirement[0]
    for windows in per_requirement[1:]:
        common = intersect(common, windows)

    slots: list[Slot] = []
    for window in common:
        for start in _aligned_starts(window, step=step, tz=tz, earliest=earliest, latest=latest):
            chosen = _assign(start, requirements, hold)
            if chosen is not None:
                length = duration if hold.uniform else combined_duration(chosen, duration)
                slots.append(Slot(start, start + length, tuple(c.resource_id for c in chosen)))
    return slots


def resources_for_start(
    *,
    requirements: Sequence[Sequence[ResourceCalendar]],
    start: int,
    duration: int,
    before: int,
    after: int,
) -> tuple[int, ...] | None:
    """The resources a booking at ``start`` would hold, or None when no combination is free."""
    if not requirements or any(not candidates for candidates in requirements):
        return None
    _prepare(requirements, duration=duration, before=before, after=after)
    hold = _hold(requirements, duration=duration, before=before, after=after)
    chosen = _assign(start, requirements, hold)
    return None if chosen is None else tuple(c.resource_id for c in chosen)


@dataclass(frozen=True)
class SlotGroup:
    """Free starts that would hold the same resources, as runs ``(first, count)``: start ``k``
    of a run (``0 <= k < count``) is ``first + k * step`` seconds."""

    resource_ids: tuple[int, ...]
    duration: int
    runs: list[tuple[int, int]]


def slot_groups(slots: Sequence[Slot], *, step: int) -> list[SlotGroup]:
    """``slots`` (sorted by start) grouped by the resources they would hold, each group's starts
    run-length encoded on the ``step`` grid; groups in the order of their first slot. A month of
    a quarter-hour grid is a few runs a day instead of a few dozen slots."""
    runs: dict[tuple[int, ...], list[list[int]]] = {}
    durations: dict[tuple[int, ...], int] = {}
    for slot in slots:
        group = runs.setdefault(slot.resource_ids, [])
        durations.setdefault(slot.resource_ids, slot.end - slot.start)
        if group and group[-1][0] + group[-1][1] * step == slot.start:
            group[-1][1] += 1
        else:
            group.append([slot.start, 1])
    return [
        SlotGroup(resource_ids=key, duration=durations[key], runs=[(a, n) for a, n in group])
        for key, group in runs.items()
    ]
