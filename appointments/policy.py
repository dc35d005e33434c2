"""The business's policy for customers who change their own bookings, signed in or through a
manage link: cancelling inside ``cancellation_window_hours`` costs the late fee (the lifecycle
service charges it); moving an appointment is allowed only before that window opens, so a late
cancellation cannot be dodged by rescheduling it."""

from __future__ import annotations

from datetime import datetime, timedelta

from appointments.models import Appointment
from core.exceptions import PermissionDenied
from tenancy.models import Tenant


def check_customer_may_reschedule(
    *, tenant: Tenant, appointment: Appointment, now: datetime
) -> None:
    """403 ``reschedule_window_closed`` once the cancellation window of ``appointment`` is open
    (by the tenant's policy as committed, not the route cache's copy)."""
    hours = Tenant.objects.filter(pk=tenant.pk).values_list("cancellation_window_hours", flat=True)
    window = timedelta(hours=hours.get())
    if now >= appointment.starts_at - window:
        raise PermissionDenied(
            f"Appointments can be moved up to {window.total_seconds() / 3600:g} hours before "
            "they start; cancel it instead (a late-cancellation fee may apply) or contact the "
            "business.",
            code="reschedule_window_closed",
        )
