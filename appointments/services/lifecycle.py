"""The appointment status machine and what each step does to time and money."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from appointments import permissions
from appointments.models import Allocation, Appointment, AppointmentStatus
from appointments.selectors import appointment_locked, appointment_with_allocations
from appointments.services.offers import place_release
from billing.services import charge_create
from core.audit import security_event
from core.exceptions import DomainError
from notifications.events import STATUS_EVENTS, event_emit
from tenancy.models import Tenant
from users.models import User

# The status machine (SPEC §3): anything not listed is a 400.
TRANSITIONS: dict[str, frozenset[str]] = {
    AppointmentStatus.PENDING: frozenset(
        {AppointmentStatus.CONFIRMED, AppointmentStatus.CANCELLED}
    ),
    AppointmentStatus.CONFIRMED: frozenset(
        {AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW, AppointmentStatus.CANCELLED}
    ),
}
OPEN_STATUSES = frozenset(TRANSITIONS)


def late_cancellation_fee(*, tenant: Tenant, appointment: Appointment, now: datetime) -> Decimal:
    """The fee owed for cancelling now: a share of the price inside the tenant's window.
    ``tenant`` must carry the policy as committed (``_cancellation_policy``), not a cached copy."""
    window = timedelta(hours=tenant.cancellation_window_hours)
    if now < appointment.starts_at - window or not tenant.late_cancellation_fee_percent:
        return Decimal("0.00")
    fee = appointment.price * Decimal(tenant.late_cancellation_fee_percent) / Decimal(100)
    return fee.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _cancellation_policy(tenant: Tenant) -> Tenant:
    # request.tenant comes from the route cache; money is charged by the policy in force now.
    return Tenant.objects.only("cancellation_window_hours", "late_cancellation_fee_percent").get(
        pk=tenant.pk
    )


def cancellation_effects(
    *, tenant: Tenant, actor: User | None, appointment: Appointment, now: datetime
) -> Decimal:
    """What cancelling the (row-locked) ``appointment`` does besides its status: stamps
    ``cancelled_at``, releases its resources, offers its place to the waitlist (issue 13) and,
    inside the cancellation window, charges the late fee, which it returns. Runs inside the
    caller's audited transaction; the caller saves the appointment."""
    appointment.cancelled_at = now
    Allocation.objects.filter(appointment=appointment).update(is_live=False)
    place_release(tenant=tenant, appointment=appointment, now=now)
    fee = late_cancellation_fee(
        tenant=_cancellation_policy(tenant), appointment=appointment, now=now
    )
    if fee > 0:
        charge_create(appointment=appointment, kind="LATE_CANCELLATION", amount=fee, actor=actor)
    return fee


@transaction.atomic
def appointment_transition(
    *,
    tenant: Tenant,
    actor: User | None,
    appointment: Appointment,
    to: str,
    request: Any = None,
    now: datetime | None = None,
) -> Appointment:
    """Move an appointment along the status machine. Cancelling releases its resources and,
    inside the cancellation window, charges the late fee (by the tenant's policy as committed,
    read in this transaction); completing charges the price. Returns the appointment loaded for
    display, read before the commit."""
    now = now or timezone.now()
    appointment = appointment_locked(appointment.pk)
    if to not in TRANSITIONS.get(appointment.status, frozenset()):
        raise DomainError(
            f"An appointment cannot go from {appointment.status} to {to}.",
            code="invalid_transition",
            fields={"status": [f"{appointment.status} -> {to} is not allowed."]},
        )
    previous = appointment.status
    appointment.status = to
    fields = ["status", "updated_at"]
    fee = Decimal("0.00")
    if to == AppointmentStatus.CANCELLED:
        fields.append("cancelled_at")
        fee = cancellation_effects(tenant=tenant, actor=actor, appointment=appointment, now=now)
    elif to == AppointmentStatus.COMPLETED and appointment.price > 0:
        charge_create(
            appointment=appointment, kind="APPOINTMENT", amount=appointment.price, actor=actor
        )
    appointment.save(update_fields=fields)
    security_event(
        "appointment_status_changed",
        request=request,
        actor=actor,
        subject=appointment,
        previous_status=previous,
        status=to,
        late_fee=str(fee),
    )
    event_emit(tenant=tenant, kind=STATUS_EVENTS[to], subject=appointment)
    return appointment_with_allocations(appointment)


@transaction.atomic
def appointment_update(
    *, tenant: Tenant, appointment: Appointment, actor: User, request: Any = None, **changes: Any
) -> Appointment:
    """Change the notes or the price of an appointment (times go through rescheduling). A new
    price needs ``manage_schedule``, the same rule as booking. Returns it loaded for display."""
    appointment = appointment_locked(appointment.pk)
    previous_price = appointment.price
    if "price" in changes:
        permissions.check_may_set_price(
            user=actor, tenant=tenant, price=changes["price"], unchanged=previous_price
        )
    for field, value in changes.items():
        setattr(appointment, field, value)
    appointment.save(update_fields=[*changes, "updated_at"])
    money: dict[str, Any] = {}
    if "price" in changes:  # who changed a price, and from what, matters when money is disputed
        money = {"previous_price": str(previous_price), "price": str(appointment.price)}
    security_event(
        "appointment_updated",
        request=request,
        actor=actor,
        subject=appointment,
        fields=sorted(changes),
        **money,
    )
    return appointment_with_allocations(appointment)
