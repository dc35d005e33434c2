"""Guests of the public booking page: book without an account, then view, cancel or reschedule
through the signed manage links (``appointments.manage_links``) under the business's policy.

A guest is matched to a customer by e-mail, and the answer is the same whether one existed or
not (nothing about the customer record is shown). Every write goes through the booking and
lifecycle services, so guests meet the same exclusion constraint, checks, late fees, audit rows
and outbox events as signed-in customers.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, cast
from uuid import UUID

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from appointments.manage_links import ManageClaim, manage_check_version, manage_claim
from appointments.models import Appointment, AppointmentStatus
from appointments.policy import check_customer_may_reschedule
from appointments.services.booking import appointment_book, appointment_reschedule
from appointments.services.lifecycle import appointment_transition
from appointments.services.slot_holds import slot_hold_take
from billing.models import Charge
from catalog.models import Service
from core.db.base import DatabaseWrapper
from core.exceptions import NotFound, PermissionDenied
from customers.models import Customer
from customers.services import customer_create
from tenancy.models import Tenant

# Names our two-key advisory locks on a guest's e-mail (see booking's idempotency lock).
_GUEST_EMAIL_LOCK_CLASS = 7_340_213


def _guest_customer(*, tenant: Tenant, name: str, email: str, phone: str) -> Customer:
    """The customer with this e-mail (case-insensitive; the oldest if several), or a new one.
    Concurrent first bookings with one address queue on a lock of it: one customer, not two."""
    schema = cast(DatabaseWrapper, connection).schema_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
            [_GUEST_EMAIL_LOCK_CLASS, f"{schema}:{email.lower()}"],
        )
    existing = Customer.objects.filter(email__iexact=email).order_by("id").first()
    if existing is not None:
        return existing
    return customer_create(tenant=tenant, actor=None, name=name, email=email, phone=phone)


def guest_book(
    *,
    tenant: Tenant,
    service: Service,
    starts_at: datetime,
    name: str,
    email: str,
    phone: str = "",
    intake_answers: dict[str, Any] | None = None,
    hold_id: UUID | str | None = None,
    request: Any = None,
    now: datetime | None = None,
) -> Appointment:
    """Book as a guest, converting the slot hold ``hold_id`` when given. Returns the appointment
    loaded for display from what this transaction wrote."""
    with transaction.atomic():
        held = None
        if hold_id is not None:
            held = slot_hold_take(hold_id=hold_id, service=service, starts_at=starts_at)
        customer = _guest_customer(tenant=tenant, name=name, email=email, phone=phone)
        if customer.status != Customer.Status.ACTIVE:
            # Says nothing about the record: not its name, not its status.
            raise PermissionDenied(
                "Online booking is not available with these details; please contact the business."
            )
        appointment, _ = appointment_book(
            tenant=tenant,
            actor=None,
            service=service,
            customer=customer,
            starts_at=starts_at,
            resources=held,
            intake_answers=intake_answers,
            request=request,
            now=now,
        )
    return appointment


def _claimed(claim: ManageClaim) -> Appointment:
    """The claimed appointment, row-locked, if the claim's links are still its current ones."""
    found = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("customer", "service", "created_by")
        .filter(public_id=claim.appointment_id)
        .first()
    )
    if found is None:
        raise NotFound("This link is not valid (or no longer).", code="invalid_link")
    manage_check_version(claim, found)
    return found


def _links_spent(appointment: Appointment) -> None:
    Appointment.objects.filter(pk=appointment.pk).update(manage_version=F("manage_version") + 1)
    appointment.manage_version += 1


def guest_cancel(
    *, tenant: Tenant, token: str, request: Any = None, now: datetime | None = None
) -> tuple[Appointment, Decimal]:
    """Cancel through a cancel link, like a signed-in customer: inside the cancellation window
    the late fee is charged. Every link of the appointment dies with it, this one included.
    Returns the appointment and the fee charged."""
    now = now or timezone.now()
    claim = manage_claim(tenant=tenant, token=token, purpose="cancel", now=now)
    with transaction.atomic():
        appointment = _claimed(claim)
        cancelled = appointment_transition(
            tenant=tenant, actor=None, appointment=appointment, to=AppointmentStatus.CANCELLED,
            request=request, now=now,
        )  # fmt: skip
        _links_spent(cancelled)
        fee = Charge.objects.filter(appointment=cancelled, kind="LATE_CANCELLATION").first()
    return cancelled, fee.amount if fee is not None else Decimal("0.00")


def guest_reschedule(
    *,
    tenant: Tenant,
    token: str,
    starts_at: datetime,
    request: Any = None,
    now: datetime | None = None,
) -> Appointment:
    """Move the appointment through a reschedule link, under the policy signed-in customers
    meet (not inside the cancellation window). The links issued before stop working; the
    caller hands out new ones for the moved appointment."""
    now = now or timezone.now()
    claim = manage_claim(tenant=tenant, token=token, purpose="reschedule", now=now)
    with transaction.atomic():
        appointment = _claimed(claim)
        check_customer_may_reschedule(tenant=tenant, appointment=appointment, now=now)
        moved = appointment_reschedule(
            tenant=tenant, actor=None, appointment=appointment, starts_at=starts_at,
            request=request, now=now,
        )  # fmt: skip
        _links_spent(moved)
    return moved
