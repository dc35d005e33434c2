"""Appointment reminders: e-mails to the customer at offsets before the start, with an .ics.

Each offset of each open appointment is a due job (kind ``reminder``, key
``<appointment>:<offset>``). Every appointment event re-derives the appointment's jobs from the
appointment as it is now, so events handled late or out of order still leave the right jobs:
moved on reschedule, dropped on cancel. When a job falls due, the reminder is sent only if the
appointment is still open, still starts when the job was planned for, and has not started.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone
from icalendar import Calendar, Event

from appointments.event_context import (
    OPEN,
    appointment_for,
    appointment_summary,
    customer_reachable,
    customer_timezone,
    resource_names,
)
from appointments.models import Appointment
from notifications import events
from notifications.email import email_outgoing
from notifications.handlers import Outgoing
from notifications.links import unsubscribe_url
from notifications.models import DueJob, OutboxEvent
from notifications.outbox import due_job_schedule, due_jobs_cancel
from plugins.base import Plugin
from tenancy.models import Tenant

SLUG = "appointment-reminders"
JOB = "reminder"


def reminders_sync(
    *,
    tenant: Tenant,
    appointment: Appointment,
    settings: dict[str, Any],
    now: datetime | None = None,
) -> int:
    """Make the appointment's reminder jobs match it; returns how many are scheduled."""
    now = now or timezone.now()
    wanted: dict[str, int] = {}
    if appointment.status in OPEN and appointment.starts_at > now:
        wanted = {
            f"{appointment.public_id}:{offset}": offset for offset in settings["offsets_minutes"]
        }
    current = DueJob.objects.filter(
        tenant=tenant, kind=JOB, key__startswith=f"{appointment.public_id}:"
    )
    # A job already due is kept while it still fits: the sweep fires it at most a beat late.
    keep = {
        job.key
        for job in current
        if job.key in wanted and job.payload.get("starts_at") == appointment.starts_at.isoformat()
    }
    current.exclude(key__in=keep).delete()
    scheduled = len(keep)
    for key, offset in wanted.items():
        due_at = appointment.starts_at - timedelta(minutes=offset)
        if key in keep or due_at <= now:  # booked too late for this one: never sent late
            continue
        due_job_schedule(
            tenant=tenant, plugin=SLUG, kind=JOB, key=key,
            due_at=due_at,
            payload={"appointment": str(appointment.public_id), "offset_minutes": offset,
                     "starts_at": appointment.starts_at.isoformat()},
        )  # fmt: skip
        scheduled += 1
    return scheduled


def appointment_ics(*, appointment: Appointment, tenant: Tenant) -> str:
    calendar = Calendar()
    calendar.add("prodid", "-//Smooth Schedule//Reminder//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"appointment-{appointment.public_id}@smoothschedule")
    event.add("summary", f"{appointment.service.name} at {tenant.name}")
    event.add("dtstart", appointment.starts_at.astimezone(UTC))
    event.add("dtend", appointment.ends_at.astimezone(UTC))
    event.add("dtstamp", timezone.now().astimezone(UTC))
    event.add("status", "CONFIRMED" if appointment.status == "CONFIRMED" else "TENTATIVE")
    calendar.add_component(event)
    return calendar.to_ical().decode()


class AppointmentReminders(Plugin):
    slug = SLUG
    events = events.APPOINTMENT_EVENTS | {f"job.{JOB}"}

    def on_event(
        self, *, tenant: Tenant, event: OutboxEvent, settings: dict[str, Any]
    ) -> list[Outgoing]:
        kind, payload = event.kind, event.payload
        appointment = appointment_for(payload)
        if appointment is None:
            return []
        if kind != f"job.{JOB}":
            reminders_sync(tenant=tenant, appointment=appointment, settings=settings)
            return []
        now = timezone.now()
        planned_start = datetime.fromisoformat(payload["starts_at"])
        if (
            appointment.status not in OPEN
            or appointment.starts_at != planned_start
            or appointment.starts_at <= now
            or not customer_reachable(appointment.customer)
        ):
            return []
        customer = appointment.customer
        tz = customer_timezone(tenant=tenant, customer=customer)
        context = {
            "customer": {"name": customer.name},
            "appointment": {
                **appointment_summary(appointment, tz),
                "resources": resource_names(appointment),
            },
            "hours_before": round(payload["offset_minutes"] / 60, 1),
        }
        link = unsubscribe_url(tenant=tenant, customer=customer)
        attachments = []
        if settings.get("attach_ics", True):
            attachments.append({
                "filename": "appointment.ics",
                "content": appointment_ics(appointment=appointment, tenant=tenant),
                "mimetype": "text/calendar",
            })  # fmt: skip
        return [
            email_outgoing(
                tenant=tenant, kind="reminder", to=customer.email,
                context={**context, "unsubscribe_url": link}, unsubscribe_url=link,
                attachments=attachments,
            )
        ]  # fmt: skip

    def on_enable(self, *, tenant: Tenant, settings: dict[str, Any]) -> None:
        now = timezone.now()
        for appointment in Appointment.objects.filter(status__in=OPEN, starts_at__gt=now):
            reminders_sync(tenant=tenant, appointment=appointment, settings=settings, now=now)

    def on_disable(self, *, tenant: Tenant) -> None:
        due_jobs_cancel(tenant=tenant, kind=JOB)
