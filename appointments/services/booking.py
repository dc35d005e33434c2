"""Booking and rescheduling: pick free resources (or check the named ones), then hold them all
in one transaction, all or nothing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from appointments import permissions
from appointments.availability import resources_for_start, to_epoch
from appointments.models import Allocation, Appointment
from appointments.selectors import resource_calendars, service_requirements
from appointments.services.holds import hold_resources, require_aware
from appointments.services.lifecycle import OPEN_STATUSES
from catalog.models import Service
from core.audit import security_event
from core.exceptions import Conflict, DomainError
from core.models import Tenant
from customers.models import Customer
from notifications import events
from notifications.events import event_emit
from plugins.builtin.no_show import booking_status
from resources.models import Resource

AUTO_PICK_ATTEMPTS = 3


def _check_window(*, service: Service, starts_at: datetime, now: datetime) -> None:
    if starts_at < now + timedelta(minutes=service.min_notice_minutes):
        raise DomainError(
            f"'{service.name}' must be booked at least {service.min_notice_minutes} minutes ahead.",
            code="too_short_notice",
            fields={"starts_at": ["Too soon for this service's minimum notice."]},
        )
    if starts_at > now + timedelta(days=service.max_advance_days):
        raise DomainError(
            f"'{service.name}' can be booked at most {service.max_advance_days} days ahead.",
            code="beyond_horizon",
            fields={"starts_at": ["Beyond this service's booking horizon."]},
        )


def _pick_resources(
    *,
    service: Service,
    starts_at: datetime,
    named: Sequence[Resource] | None,
    actor: Any = None,
    ignore_appointment_id: int | None = None,
    excluded: frozenset[int] = frozenset(),
) -> list[Resource]:
    """One free, eligible resource per requirement (the named ones when given), or Conflict."""
    requirements = service_requirements(service)
    if not requirements:
        raise DomainError(
            f"'{service.name}' needs no resources and cannot be booked; give it requirements.",
            fields={"service": ["This service has no resource requirements."]},
        )
    if named is not None:
        named_ids = {r.pk for r in named}
        if len(named_ids) != len(requirements):
            raise DomainError(
                f"'{service.name}' needs {len(requirements)} resources; {len(named_ids)} given.",
                fields={"resources": [f"Name exactly {len(requirements)} distinct resources."]},
            )
        eligible_ids = {r.pk for candidates in requirements for r in candidates}
        if not named_ids <= eligible_ids:
            raise DomainError(
                "A named resource is not eligible for this service (or inactive).",
                fields={"resources": ["Not eligible for this service."]},
            )
        requirements = [[r for r in cands if r.pk in named_ids] for cands in requirements]
    # The actor's own resource first: a stylist booking without naming one gets themself.
    requirements = [
        sorted(
            (r for r in cands if r.pk not in excluded),
            key=lambda r: r.user_id is None or r.user_id != getattr(actor, "pk", None),
        )
        for cands in requirements
    ]

    duration = service.duration_minutes * 60
    before, after = service.buffer_before_minutes * 60, service.buffer_after_minutes * 60
    hold_start = starts_at - timedelta(seconds=before)
    hold_end = starts_at + timedelta(seconds=duration + after)
    calendars = resource_calendars(
        requirements=requirements,
        lo=hold_start,
        hi=hold_end,
        ignore_appointment_id=ignore_appointment_id,
    )
    chosen = resources_for_start(
        requirements=calendars,
        start=to_epoch(starts_at),
        duration=duration,
        before=before,
        after=after,
    )
    if chosen is None:
        start = to_epoch(starts_at)
        busy = [
            r for cands, cals in zip(requirements, calendars, strict=True)
            for r, cal in zip(cands, cals, strict=True) if not cal.admits(start)
        ]  # fmt: skip
        described = ", ".join(f"'{r.name}'" for r in busy) or "no eligible resource"
        raise Conflict(
            f"'{service.name}' cannot be booked at {starts_at.isoformat()}: not free: {described}.",
            code="resource_busy",
            fields={
                "resources": [str(r.public_id) for r in busy],
                "starts_at": ["Not available; ask /api/availability/ for free times."],
            },
        )
    by_id = {r.pk: r for cands in requirements for r in cands}
    return [by_id[pk] for pk in chosen]


def _hold_span(service: Service, starts_at: datetime) -> tuple[datetime, datetime, datetime]:
    ends_at = starts_at + timedelta(minutes=service.duration_minutes)
    return (
        ends_at,
        starts_at - timedelta(minutes=service.buffer_before_minutes),
        ends_at + timedelta(minutes=service.buffer_after_minutes),
    )


def appointment_book(
    *,
    tenant: Tenant,
    actor: Any,
    service: Service,
    customer: Customer,
    starts_at: datetime,
    resources: Sequence[Resource] | None = None,
    price: Decimal | None = None,
    notes: str = "",
    idempotency_key: str = "",
    request_digest: str = "",
    request: Any = None,
    now: datetime | None = None,
) -> tuple[Appointment, bool]:
    """Book ``service`` for ``customer`` at ``starts_at``: every resource or none.

    Returns the appointment and whether it was created now (False: an Idempotency-Key replay).
    """
    require_aware(starts_at=starts_at)
    if idempotency_key:
        replay = _idempotent_replay(actor=actor, key=idempotency_key, digest=request_digest)
        if replay is not None:
            return replay, False
    if not service.is_active:
        raise DomainError(
            "This service is not offered any more.", fields={"service": ["Inactive."]}
        )
    if customer.status != Customer.Status.ACTIVE:
        raise DomainError(
            f"Customer '{customer.name}' is {customer.status.lower()} and cannot book.",
            fields={"customer": ["Only active customers can book."]},
        )
    _check_window(service=service, starts_at=starts_at, now=now or timezone.now())
    ends_at, hold_start, hold_end = _hold_span(service, starts_at)

    excluded: frozenset[int] = frozenset()
    attempts = 1 if resources is not None else AUTO_PICK_ATTEMPTS
    for attempt in range(attempts):
        chosen = _pick_resources(
            service=service, starts_at=starts_at, named=resources, actor=actor, excluded=excluded
        )
        permissions.check_may_hold(user=actor, tenant=tenant, resources=chosen)
        try:
            with transaction.atomic():
                appointment = Appointment.objects.create(
                    customer=customer,
                    service=service,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    price=service.price if price is None else price,
                    notes=notes,
                    created_by=actor,
                    status=booking_status(tenant=tenant, customer=customer),
                    idempotency_key=idempotency_key,
                    request_digest=request_digest,
                )
                hold_resources(
                    resources=chosen, start=hold_start, end=hold_end, appointment=appointment
                )
                security_event(
                    "appointment_booked",
                    request=request,
                    actor=actor,
                    appointment=str(appointment.public_id),
                    resources=[str(r.public_id) for r in chosen],
                )
                event_emit(tenant=tenant, kind=events.APPOINTMENT_CREATED, subject=appointment)
                return appointment, True
        except Conflict as conflict:
            # Lost a race for an automatically picked resource: try the others once more.
            if attempt + 1 == attempts:
                raise
            busy = conflict.fields.get("resources", [])
            excluded = excluded | {r.pk for r in chosen if str(r.public_id) in busy}
        except IntegrityError:
            if idempotency_key:  # a concurrent retry with the same key won
                replay = _idempotent_replay(actor=actor, key=idempotency_key, digest=request_digest)
                if replay is not None:
                    return replay, False
            raise
    raise AssertionError("unreachable: the last attempt returns or raises")


def _idempotent_replay(*, actor: Any, key: str, digest: str) -> Appointment | None:
    existing = Appointment.objects.filter(created_by=actor, idempotency_key=key).first()
    if existing is not None and existing.request_digest != digest:
        raise Conflict(
            "This Idempotency-Key was already used for a different request.",
            code="idempotency_key_reused",
        )
    return existing


@transaction.atomic
def appointment_reschedule(
    *,
    tenant: Tenant,
    actor: Any,
    appointment: Appointment,
    starts_at: datetime,
    resources: Sequence[Resource] | None = None,
    request: Any = None,
    now: datetime | None = None,
) -> Appointment:
    """Move an open appointment (same checks as booking); its old hold is released atomically."""
    require_aware(starts_at=starts_at)
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if appointment.status not in OPEN_STATUSES:
        raise DomainError(
            f"A {appointment.status.lower()} appointment cannot be rescheduled.",
            code="invalid_transition",
            fields={"status": [appointment.status]},
        )
    service = appointment.service
    _check_window(service=service, starts_at=starts_at, now=now or timezone.now())
    chosen = _pick_resources(
        service=service,
        starts_at=starts_at,
        named=resources,
        actor=actor,
        ignore_appointment_id=appointment.pk,
    )
    permissions.check_may_hold(user=actor, tenant=tenant, resources=chosen)
    ends_at, hold_start, hold_end = _hold_span(service, starts_at)
    Allocation.objects.filter(appointment=appointment).delete()
    hold_resources(resources=chosen, start=hold_start, end=hold_end, appointment=appointment)
    previous = appointment.starts_at
    appointment.starts_at, appointment.ends_at = starts_at, ends_at
    appointment.save(update_fields=["starts_at", "ends_at", "updated_at"])
    security_event(
        "appointment_rescheduled",
        request=request,
        actor=actor,
        appointment=str(appointment.public_id),
        previous_start=previous.isoformat(),
        start=starts_at.isoformat(),
    )
    event_emit(tenant=tenant, kind=events.APPOINTMENT_RESCHEDULED, subject=appointment)
    return appointment
