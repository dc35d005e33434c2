"""The iCalendar (RFC 5545) feed of one resource: its live appointments, blockers, group sessions
and recurring series (with RRULE and EXDATE), times in UTC or the series' zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone
from icalendar import Calendar, Event, vRecur

from appointments.models import Allocation, Appointment, AppointmentSeries, GroupSession
from appointments.recurrence import occurrences, rule_parse
from resources.models import Resource

FEED_PAST = timedelta(days=90)
FEED_FUTURE = timedelta(days=400)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def resource_calendar_feed(*, resource: Resource, host: str, now: datetime | None = None) -> bytes:
    """Every live hold of ``resource`` from 90 days back to 400 ahead. Cancelled appointments
    release their allocations, so they drop out of the feed on the next refresh."""
    now = now or timezone.now()
    calendar = Calendar()
    calendar.add("prodid", "-//Smooth Schedule//Resource feed//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", resource.name)
    holds = (
        Allocation.objects.filter(
            resource=resource,
            is_live=True,
            hold__isnull=True,  # a visitor's slot hold is no one's appointment yet
            ends_at__gt=now - FEED_PAST,
            starts_at__lt=now + FEED_FUTURE,
        )
        .select_related(
            "appointment__service", "appointment__customer", "blocker", "session__service"
        )
        .order_by("starts_at")
    )
    series_ids: set[int] = set()
    for hold in holds:
        if hold.appointment is not None and hold.appointment.series_id is not None:
            series_ids.add(hold.appointment.series_id)  # exported once, with its rule, below
            continue
        event = Event()
        if hold.session is not None:
            event = _session_event(hold.session, host=host)
        elif hold.appointment is not None:
            appointment = hold.appointment
            event.add("uid", f"appointment-{appointment.public_id}@{host}")
            event.add("summary", f"{appointment.service.name}: {appointment.customer.name}")
            event.add("dtstart", _utc(appointment.starts_at))
            event.add("dtend", _utc(appointment.ends_at))
            event.add("status", "CONFIRMED" if appointment.status != "PENDING" else "TENTATIVE")
            event.add("last-modified", _utc(appointment.updated_at))
            if appointment.notes:
                event.add("description", appointment.notes)
        elif hold.blocker is not None:
            blocker = hold.blocker
            event.add("uid", f"blocker-{blocker.public_id}@{host}")
            event.add("summary", f"Blocked: {blocker.title}" if blocker.title else "Blocked")
            event.add("dtstart", _utc(blocker.starts_at))
            event.add("dtend", _utc(blocker.ends_at))
            event.add("transp", "OPAQUE")
            event.add("last-modified", _utc(blocker.updated_at))
        event.add("dtstamp", _utc(now))
        calendar.add_component(event)
    for series in AppointmentSeries.objects.filter(pk__in=series_ids).select_related(
        "service", "customer"
    ):
        for event in _series_events(series, resource=resource, host=host, now=now):
            calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


# --- Issue 13: group sessions and recurring series ---------------------------------------------


def _session_event(session: GroupSession, *, host: str) -> Event:
    event = Event()
    event.add("uid", f"session-{session.public_id}@{host}")
    seats = f"{session.seats_taken}/{session.capacity} seats"
    event.add("summary", f"{session.service.name} (group, {seats})")
    event.add("dtstart", _utc(session.starts_at))
    event.add("dtend", _utc(session.ends_at))
    event.add("status", "CONFIRMED")
    event.add("last-modified", _utc(session.updated_at))
    return event


def _series_events(
    series: AppointmentSeries, *, resource: Resource, host: str, now: datetime
) -> list[Event]:
    """A series as RFC 5545 has it: one event with the rule (DTSTART in the series' zone, so
    the rule follows its wall clock across DST), EXDATE for each occurrence this resource does
    not hold (cancelled, not booked, or held by another resource), and an overriding event
    (RECURRENCE-ID) for each occurrence moved off the time the rule gives."""
    tz = ZoneInfo(series.timezone)
    starts = occurrences(rule=rule_parse(series.rule), first_start=series.first_start, tz=tz)
    held = {
        a.occurrence_start: a
        for a in Appointment.objects.filter(
            series=series, allocations__resource=resource, allocations__is_live=True
        ).distinct()
    }
    uid = f"series-{series.public_id}@{host}"
    duration = timedelta(minutes=series.service.duration_minutes)
    summary = f"{series.service.name}: {series.customer.name}"
    master = Event()
    master.add("uid", uid)
    master.add("summary", summary)
    master.add("dtstart", starts[0])
    master.add("dtend", starts[0] + duration)
    master.add("rrule", vRecur.from_ical(series.rule))
    skipped = [start for start in starts if start not in held]
    if skipped:
        master.add("exdate", skipped)
    master.add("last-modified", _utc(series.updated_at))
    master.add("dtstamp", _utc(now))
    events = [master]
    for appointment in held.values():
        rule_start = appointment.occurrence_start
        if rule_start is None or appointment.starts_at == rule_start:
            continue
        moved = Event()
        moved.add("uid", uid)
        moved.add("recurrence-id", rule_start.astimezone(tz))
        moved.add("summary", summary)
        moved.add("dtstart", _utc(appointment.starts_at))
        moved.add("dtend", _utc(appointment.ends_at))
        moved.add("last-modified", _utc(appointment.updated_at))
        moved.add("dtstamp", _utc(now))
        events.append(moved)
    return events
