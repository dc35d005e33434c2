"""What the outbox's handlers of appointment events share (the guest booking confirmation,
the plugins): finding the appointment an event is about, a customer's timezone and consent,
local time formatting."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from appointments.models import Appointment
from customers.models import Customer
from plugin_data.models import CustomerPreference
from tenancy.models import Tenant

OPEN = ("PENDING", "CONFIRMED")


def appointment_for(payload: dict[str, Any]) -> Appointment | None:
    """The appointment an event or job is about, as it is now (None once deleted)."""
    public_id = payload.get("appointment") or payload.get("id")
    if public_id is None:
        return None
    return (
        Appointment.objects.select_related("customer", "service")
        .filter(public_id=public_id)
        .first()
    )


def customer_timezone(*, tenant: Tenant, customer: Customer) -> ZoneInfo:
    preference = CustomerPreference.objects.filter(customer=customer).first()
    return ZoneInfo(preference.timezone if preference and preference.timezone else tenant.timezone)


def customer_reachable(customer: Customer) -> bool:
    """The customer has an address and did not unsubscribe."""
    if not customer.email:
        return False
    return not CustomerPreference.objects.filter(
        customer=customer, unsubscribed_at__isnull=False
    ).exists()


def local(moment: datetime, tz: ZoneInfo) -> str:
    value = moment.astimezone(tz)
    return f"{value:%a} {value.day} {value:%b %Y, %H:%M}"


def appointment_summary(appointment: Appointment, tz: ZoneInfo) -> dict[str, str]:
    """What a customer's message says of its appointment: the service and its times, in the
    customer's time zone."""
    return {
        "service": appointment.service.name,
        "starts_at": local(appointment.starts_at, tz),
        "ends_at": local(appointment.ends_at, tz),
        "timezone": str(tz),
    }


def resource_names(appointment: Appointment) -> list[str]:
    return [
        a.resource.name for a in appointment.allocations.select_related("resource").order_by("id")
    ]
