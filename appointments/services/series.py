"""Recurring series (issue 13): one real appointment per occurrence of a rule, each under the
same database guarantees as a single booking (the exclusion constraint, the seats of a group
session), all in one transaction.

Booking is all or nothing by default: any occurrence that cannot be booked rolls the whole series
back (409 ``series_conflict`` naming each). Asked to (``book_free_only``), it books the free ones
and reports the others. Each occurrence is tried in a savepoint, so a refused one leaves nothing
behind. Cancelling and moving act on one occurrence, this and the following ones, or all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from appointments import permissions
from appointments.booking_policy import booking_status
from appointments.models import Allocation, Appointment, AppointmentSeries, AppointmentStatus
from appointments.recurrence import (
    RuleError,
    occurrences,
    rule_parse,
    shifted,
    wall_clock_difference,
)
from appointments.selectors import appointment_shown, appointment_with_allocations, service_terms
from appointments.services.booking import (
    _check_window,
    _hold_span,
    _pick_resources,
    book_one,
)
from appointments.services.holds import hold_resources
from appointments.services.lifecycle import OPEN_STATUSES, cancellation_effects
from catalog.models import Service
from closures.selectors import check_not_closed
from core.audit import security_event
from core.exceptions import Conflict, DomainError, PermissionDenied
from customers.models import Customer
from notifications import events
from notifications.events import event_emit
from resources.models import Resource
from resources.timespans import require_aware
from tenancy.models import Tenant
from users.models import User

SCOPES = ("this", "following", "all")


@dataclass(frozen=True)
class SeriesBooking:
    series: AppointmentSeries
    appointments: list[Appointment]
    # Occurrences not booked (only when asked to book the free ones): start, code, message.
    conflicts: list[dict[str, str]] = field(default_factory=list)


def series_starts(*, rule: str, starts_at: datetime, tz: ZoneInfo) -> tuple[str, list[datetime]]:
    """The canonical rule and its occurrences from ``starts_at``, or a 400 naming ``rrule``."""
    try:
        parsed = rule_parse(rule)
        return parsed.as_text(), occurrences(rule=parsed, first_start=starts_at, tz=tz)
    except RuleError as error:
        raise DomainError(str(error), fields={"rrule": [str(error)]}) from None


def series_book(
    *,
    tenant: Tenant,
    actor: User,
    service: Service,
    customer: Customer,
    starts_at: datetime,
    rule: str,
    tz: ZoneInfo,
    resources: Sequence[Resource] | None = None,
    notes: str = "",
    book_free_only: bool = False,
    request: Any = None,
    now: datetime | None = None,
) -> SeriesBooking:
    """Book every occurrence of ``rule`` from ``starts_at`` (local wall-clock time in ``tz``)."""
    require_aware(starts_at=starts_at)
    now = now or timezone.now()
    canonical, starts = series_starts(rule=rule, starts_at=starts_at, tz=tz)
    _check_window(service=service, starts_at=starts[0], now=now)
    with transaction.atomic():
        series = AppointmentSeries.objects.create(
            service=service, customer=customer, rule=canonical, timezone=str(tz),
            first_start=starts[0], created_by=actor,
        )  # fmt: skip
        status = booking_status(tenant=tenant, customer=customer)
        booked: list[Appointment] = []
        conflicts: list[dict[str, str]] = []
        for start in starts:
            fields = {
                "customer": customer, "service": service,
                "notes": notes, "created_by": actor, "status": status, "series": series,
                "occurrence_start": start,
            }  # fmt: skip
            try:
                with transaction.atomic():
                    appointment, held = book_one(
                        tenant=tenant, actor=actor, service=service, customer=customer,
                        starts_at=start, resources=resources, fields=fields, now=now,
                    )  # fmt: skip
            except PermissionDenied:
                raise
            except DomainError as refusal:
                conflicts.append(
                    {
                        "starts_at": start.isoformat(),
                        "code": refusal.code,
                        "message": refusal.message,
                    }
                )
                continue
            booked.append(appointment_shown(appointment, held))
        if not booked or (conflicts and not book_free_only):
            raise Conflict(
                f"{len(conflicts)} of {len(starts)} occurrences cannot be booked; nothing was "
                "booked." + ("" if book_free_only else " Send book_free_only to book the others."),
                code="series_conflict",
                fields={"occurrences": [f"{c['starts_at']}: {c['message']}" for c in conflicts]},
            )
        security_event(
            "appointment_series_booked", request=request, actor=actor, subject=series,
            rule=canonical, booked=len(booked), not_booked=len(conflicts),
        )  # fmt: skip
        for appointment in booked:
            event_emit(tenant=tenant, kind=events.APPOINTMENT_CREATED, subject=appointment)
    return SeriesBooking(series=series, appointments=booked, conflicts=conflicts)


def _locked(appointments: Sequence[Appointment]) -> list[Appointment]:
    """The open ones of ``appointments``, row-locked in one consistent order (by start)."""
    return list(
        Appointment.objects.select_for_update(of=("self",))
        .select_related("customer", "service", "created_by")
        .filter(pk__in=[a.pk for a in appointments], status__in=OPEN_STATUSES)
        .order_by("starts_at", "id")
    )


def _nothing_open(scope: str) -> DomainError:
    return DomainError(
        f"No open occurrence in scope '{scope}'.",
        code="invalid_transition",
        fields={"scope": ["Every occurrence in this scope is already closed."]},
    )


@transaction.atomic
def series_cancel(
    *,
    tenant: Tenant,
    actor: User,
    series: AppointmentSeries,
    appointments: Sequence[Appointment],
    scope: str,
    request: Any = None,
    now: datetime | None = None,
) -> list[Appointment]:
    """Cancel the open ``appointments`` of ``series`` (the occurrences in ``scope``, chosen and
    access-checked by the caller), each as a single cancellation would: resources released,
    the place offered to the waitlist, a late fee inside the window."""
    now = now or timezone.now()
    locked = _locked(appointments)
    if not locked:
        raise _nothing_open(scope)
    for appointment in locked:
        appointment.status = AppointmentStatus.CANCELLED
        cancellation_effects(tenant=tenant, actor=actor, appointment=appointment, now=now)
        appointment.save(update_fields=["status", "cancelled_at", "updated_at"])
    security_event(
        "appointment_series_cancelled", request=request, actor=actor, subject=series,
        scope=scope, appointments=[str(a.public_id) for a in locked],
    )  # fmt: skip
    for appointment in locked:
        event_emit(tenant=tenant, kind=events.APPOINTMENT_CANCELLED, subject=appointment)
    return [appointment_with_allocations(a) for a in locked]


@transaction.atomic
def series_reschedule(
    *,
    tenant: Tenant,
    actor: User,
    series: AppointmentSeries,
    appointments: Sequence[Appointment],
    anchor: Appointment,
    starts_at: datetime,
    scope: str,
    request: Any = None,
    now: datetime | None = None,
) -> list[Appointment]:
    """Move ``anchor`` to ``starts_at`` and every other appointment in ``appointments`` by the
    same shift of the local wall clock (so a weekly 09:00 moved to 10:00 stays 10:00 across DST),
    all or nothing. Their old holds are released first, so occurrences may move onto each
    other's old times."""
    require_aware(starts_at=starts_at)
    now = now or timezone.now()
    tz = ZoneInfo(series.timezone)
    locked = _locked(appointments)
    if not locked:
        raise _nothing_open(scope)
    if any(a.session_id is not None for a in locked):
        raise DomainError(
            "Seats of group sessions cannot be moved; cancel them and book other sessions.",
            code="invalid_transition",
            fields={"scope": ["The series takes seats of group sessions."]},
        )
    shift = wall_clock_difference(anchor.starts_at, starts_at, tz=tz)
    Allocation.objects.filter(appointment__in=locked).delete()
    service = series.service
    terms = service_terms(service)
    for appointment in locked:
        start = shifted(appointment.starts_at, by=shift, tz=tz)
        _check_window(service=service, starts_at=start, now=now)
        chosen = _pick_resources(
            service=service, terms=terms, starts_at=start, named=None, actor=actor
        )
        permissions.check_may_hold(user=actor, tenant=tenant, resources=chosen)
        length = terms.duration_for([r.pk for r in chosen])
        ends_at, hold_start, hold_end = _hold_span(service, start, length)
        check_not_closed(starts_at=start, ends_at=ends_at)
        hold_resources(resources=chosen, start=hold_start, end=hold_end, appointment=appointment)
        appointment.starts_at, appointment.ends_at = start, ends_at
        appointment.save(update_fields=["starts_at", "ends_at", "updated_at"])
    security_event(
        "appointment_series_rescheduled", request=request, actor=actor, subject=series,
        scope=scope, shift_minutes=int(shift / timedelta(minutes=1)),
        appointments=[str(a.public_id) for a in locked],
    )  # fmt: skip
    for appointment in locked:
        event_emit(tenant=tenant, kind=events.APPOINTMENT_RESCHEDULED, subject=appointment)
    return [appointment_with_allocations(a) for a in locked]
