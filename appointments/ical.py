"""The iCalendar (RFC 5545) feed of one resource: its live appointments and blockers, in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.utils import timezone
from icalendar import Calendar, Event

from appointments.models import Allocation
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
        .select_related("appointment__service", "appointment__customer", "blocker")
        .order_by("starts_at")
    )
    for hold in holds:
        event = Event()
        if hold.appointment is not None:
            appointment = hold.appointment
            event.add("uid", f"appointment-{appointment.public_id}@{host}")
            event.add("summary", f"{appointment.service.name}: {appointment.customer.name}")
            event.add("dtstart", _utc(appointment.starts_at))
            event.add("dtend", _utc(appointment.ends_at))
            event.add("status", "CONFIRMED" if appointment.status != "PENDING" else "TENTATIVE")
            event.add("last-modified", _utc(appointment.updated_at))
            if appointment.notes:
                event.add("description", appointment.notes)
        else:
            blocker = hold.blocker
            event.add("uid", f"blocker-{blocker.public_id}@{host}")
            event.add("summary", f"Blocked: {blocker.title}" if blocker.title else "Blocked")
            event.add("dtstart", _utc(blocker.starts_at))
            event.add("dtend", _utc(blocker.ends_at))
            event.add("transp", "OPAQUE")
            event.add("last-modified", _utc(blocker.updated_at))
        event.add("dtstamp", _utc(now))
        calendar.add_component(event)
    return calendar.to_ical()
