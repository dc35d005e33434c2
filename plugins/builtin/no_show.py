"""No-show tracking: confirmed appointments still open a grace period after their end become
NO_SHOW through the lifecycle service (fees and audit apply); customers at the threshold of
no-shows book PENDING, the others are confirmed at once (when so configured).

One due job per confirmed appointment (kind ``no_show``, key = the appointment), re-derived from
the appointment as it is now on each of its events.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from appointments.event_context import appointment_for
from appointments.models import Appointment, AppointmentStatus
from appointments.services import appointment_transition
from customers.models import Customer
from customers.selectors import customer_list
from notifications import events
from notifications.handlers import Outgoing
from notifications.models import OutboxEvent
from notifications.outbox import due_job_schedule, due_jobs_cancel
from plugins.base import Plugin
from plugins.selectors import active_settings
from tenancy.models import Tenant

SLUG = "no-show-tracking"
JOB = "no_show"


def no_show_count(customer: Customer) -> int:
    """The customer's count as its API shows it (``customers.selectors.customer_list``)."""
    # An annotation registered at run time (customers.personal_data): the plugin cannot see it.
    counts = customer_list().values_list("no_show_count", flat=True)  # type: ignore[misc]
    return counts.get(pk=customer.pk)


def no_show_sync(*, tenant: Tenant, appointment: Appointment, settings: dict[str, Any]) -> None:
    due_jobs_cancel(tenant=tenant, kind=JOB, key_prefix=str(appointment.public_id))
    if appointment.status != AppointmentStatus.CONFIRMED:
        return
    due_job_schedule(
        tenant=tenant, plugin=SLUG, kind=JOB, key=str(appointment.public_id),
        due_at=appointment.ends_at + timedelta(minutes=settings["grace_minutes"]),
        payload={"appointment": str(appointment.public_id)},
    )  # fmt: skip


class NoShowTracking(Plugin):
    slug = SLUG
    events = events.APPOINTMENT_EVENTS | {f"job.{JOB}"}

    def on_event(
        self, *, tenant: Tenant, event: OutboxEvent, settings: dict[str, Any]
    ) -> list[Outgoing]:
        appointment = appointment_for(event.payload)
        if appointment is None:
            return []
        if event.kind != f"job.{JOB}":
            no_show_sync(tenant=tenant, appointment=appointment, settings=settings)
            return []
        deadline = appointment.ends_at + timedelta(minutes=settings["grace_minutes"])
        if appointment.status == AppointmentStatus.CONFIRMED and timezone.now() >= deadline:
            appointment_transition(
                tenant=tenant, actor=None, appointment=appointment, to=AppointmentStatus.NO_SHOW
            )
        return []

    def on_enable(self, *, tenant: Tenant, settings: dict[str, Any]) -> None:
        # Only appointments still to end: installing never marks the past.
        upcoming = Appointment.objects.filter(
            status=AppointmentStatus.CONFIRMED, ends_at__gt=timezone.now()
        )
        for appointment in upcoming:
            no_show_sync(tenant=tenant, appointment=appointment, settings=settings)

    def on_disable(self, *, tenant: Tenant) -> None:
        due_jobs_cancel(tenant=tenant, kind=JOB)


def booking_status(*, tenant: Tenant, customer: Customer, now: datetime | None = None) -> str:
    """The status a new booking of ``customer`` starts in: PENDING unless no-show tracking is
    on with auto-confirm and the customer is below the threshold, then CONFIRMED."""
    settings = active_settings(tenant=tenant, slug=SLUG)
    if not settings or not settings.get("auto_confirm_below_threshold", True):
        return AppointmentStatus.PENDING
    if no_show_count(customer) >= settings["threshold"]:
        return AppointmentStatus.PENDING
    return AppointmentStatus.CONFIRMED
