"""The status a new booking starts in: PENDING, unless an app above appointments registered a
policy from its ``AppConfig.ready()`` (the no-show-tracking plugin confirms customers below its
threshold at once). Appointments runs the policy without knowing the app."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from appointments.models import AppointmentStatus
from customers.models import Customer
from tenancy.models import Tenant


class StatusPolicy(Protocol):
    def __call__(
        self, *, tenant: Tenant, customer: Customer, now: datetime | None = None
    ) -> str: ...


_policies: list[StatusPolicy] = []


def register_booking_status_policy(policy: StatusPolicy) -> None:
    """Let ``policy`` decide new bookings' status (registering twice is a no-op)."""
    if policy not in _policies:
        _policies.append(policy)


def booking_status(*, tenant: Tenant, customer: Customer, now: datetime | None = None) -> str:
    """The status a new booking of ``customer`` starts in."""
    for policy in _policies:
        return policy(tenant=tenant, customer=customer, now=now)
    return AppointmentStatus.PENDING
