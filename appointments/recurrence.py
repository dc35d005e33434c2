"""Recurrence rules: the RFC 5545 RRULE subset a series accepts, read in local wall-clock time.

Pure: no database, no Django. ``rule_parse`` validates the subset itself (DAILY or WEEKLY,
INTERVAL, BYDAY, COUNT or UNTIL) and says what is wrong in words; ``occurrences`` expands a rule
with python-dateutil over *naive local* times and only then attaches the zone, so a weekly 09:00
stays 09:00 on the clock on both sides of a DST change (the UTC instant moves by an hour).
A wall-clock time that a DST jump skips reads as the moment the clock jumped past it
(``zoneinfo``'s fold=0 reading, as everywhere in the availability algorithm).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil import rrule

MAX_OCCURRENCES = 52
MAX_INTERVAL = 52
WEEKDAYS = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}
FREQUENCIES = {"DAILY": rrule.DAILY, "WEEKLY": rrule.WEEKLY}


class RuleError(ValueError):
    """The rule is outside the accepted subset; the message says why."""


@dataclass(frozen=True)
class Rule:
    frequency: str
    interval: int = 1
    weekdays: tuple[int, ...] = ()
    count: int | None = None
    until: date | datetime | None = None

    def as_text(self) -> str:
        """The rule in its canonical RRULE form (how a series stores and exports it)."""
        parts = [f"FREQ={self.frequency}"]
        if self.interval != 1:
            parts.append(f"INTERVAL={self.interval}")
        if self.weekdays:
            names = {v: k for k, v in WEEKDAYS.items()}
            parts.append("BYDAY=" + ",".join(names[d] for d in self.weekdays))
        if self.count is not None:
            parts.append(f"COUNT={self.count}")
        if isinstance(self.until, datetime):
            parts.append(f"UNTIL={self.until.strftime('%Y%m%dT%H%M%SZ')}")
        elif self.until is not None:
            parts.append(f"UNTIL={self.until.strftime('%Y%m%d')}")
        return ";".join(parts)


def _positive(name: str, value: str, highest: int) -> int:
    if not value.isdigit() or not 1 <= int(value) <= highest:
        raise RuleError(f"{name} must be a whole number from 1 to {highest}.")
    return int(value)


def _until(value: str) -> date | datetime:
    try:
        if len(value) == 8:
            return date(int(value[:4]), int(value[4:6]), int(value[6:]))
        if len(value) == 16 and value.endswith("Z"):
            return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        pass
    raise RuleError("UNTIL must be a date (20270131) or a UTC time (20270131T235959Z).")


def rule_parse(text: str) -> Rule:
    """The rule ``text`` (``RRULE:`` prefix optional) if it is in the subset, else RuleError."""
    text = text.strip()
    if text.upper().startswith("RRULE:"):
        text = text[len("RRULE:") :]
    if not text:
        raise RuleError("Give a rule, e.g. FREQ=WEEKLY;BYDAY=MO;COUNT=10.")
    parts: dict[str, str] = {}
    for part in text.split(";"):
        name, sep, value = part.partition("=")
        name = name.strip().upper()
        if not sep or not name or not value.strip():
            raise RuleError(f"'{part}' is not NAME=VALUE.")
        if name in parts:
            raise RuleError(f"{name} is given twice.")
        parts[name] = value.strip().upper()
    unknown = sorted(set(parts) - {"FREQ", "INTERVAL", "BYDAY", "COUNT", "UNTIL"})
    if unknown:
        raise RuleError(
            f"{', '.join(unknown)} not supported: use FREQ, INTERVAL, BYDAY, COUNT or UNTIL."
        )
    frequency = parts.get("FREQ")
    if frequency not in FREQUENCIES:
        raise RuleError("FREQ must be DAILY or WEEKLY.")
    weekdays: tuple[int, ...] = ()
    if "BYDAY" in parts:
        names = parts["BYDAY"].split(",")
        if any(n not in WEEKDAYS for n in names):
            raise RuleError("BYDAY lists plain weekdays: MO, TU, WE, TH, FR, SA, SU.")
        weekdays = tuple(sorted({WEEKDAYS[n] for n in names}))
    if ("COUNT" in parts) == ("UNTIL" in parts):
        raise RuleError(f"Give exactly one of COUNT (at most {MAX_OCCURRENCES}) or UNTIL.")
    return Rule(
        frequency=frequency,
        interval=_positive("INTERVAL", parts["INTERVAL"], MAX_INTERVAL)
        if "INTERVAL" in parts
        else 1,
        weekdays=weekdays,
        count=_positive("COUNT", parts["COUNT"], MAX_OCCURRENCES) if "COUNT" in parts else None,
        until=_until(parts["UNTIL"]) if "UNTIL" in parts else None,
    )


def occurrences(*, rule: Rule, first_start: datetime, tz: ZoneInfo) -> list[datetime]:
    """The aware starts of ``rule`` from ``first_start`` (which must be aware), at the same
    local wall-clock time each day, at most ``MAX_OCCURRENCES`` (RuleError beyond)."""
    local_start = first_start.astimezone(tz).replace(tzinfo=None)
    until: datetime | None = None
    if isinstance(rule.until, datetime):
        until = rule.until.astimezone(tz).replace(tzinfo=None)
    elif rule.until is not None:
        until = datetime.combine(rule.until, time.max)
    if until is not None and until < local_start:
        raise RuleError("UNTIL is before the first start.")
    expanded = rrule.rrule(
        FREQUENCIES[rule.frequency],
        dtstart=local_start,
        interval=rule.interval,
        byweekday=rule.weekdays or None,
        count=rule.count,
        until=until,
        cache=False,
    )
    starts: list[datetime] = []
    for local in expanded:
        if len(starts) == MAX_OCCURRENCES:
            raise RuleError(f"The rule gives more than {MAX_OCCURRENCES} occurrences.")
        # Through UTC and back: a skipped wall-clock time becomes the real instant after the jump.
        starts.append(local.replace(tzinfo=tz).astimezone(UTC).astimezone(tz))
    if not starts:
        raise RuleError("The rule gives no occurrence (BYDAY may exclude the first start's day).")
    return starts


def shifted(moment: datetime, *, by: timedelta, tz: ZoneInfo) -> datetime:
    """``moment`` moved by ``by`` on the local wall clock (a week later is 09:00 again, DST or
    not)."""
    local = moment.astimezone(tz).replace(tzinfo=None) + by
    return local.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)


def wall_clock_difference(a: datetime, b: datetime, *, tz: ZoneInfo) -> timedelta:
    """``b - a`` as the local wall clock reads them."""
    return b.astimezone(tz).replace(tzinfo=None) - a.astimezone(tz).replace(tzinfo=None)
