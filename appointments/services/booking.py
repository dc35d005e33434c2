"""Booking and rescheduling: pick free resources (or check the named ones), then hold them all
in one transaction, all or nothing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from appointments import permissions
from appointments.availability import ResourceCalendar, resources_for_start, to_epoch
from appointments.booking_policy import booking_status
from appointments.models import Allocation, Appointment, GroupSession
from appointments.selectors import (
    ServiceTerms,
    appointment_list,
    appointment_locked,
    appointment_shown,
    resource_calendars,
    service_requirements,
    service_terms,
)
from appointments.services.holds import ResourceBusy, hold_resources
from appointments.services.lifecycle import OPEN_STATUSES
from appointments.services.quota import booking_quota_take
from appointments.services.seats import seat_take
from catalog.intake import intake_validate
from catalog.models import Service
from closures.selectors import check_not_closed
from core.audit import security_event
from core.exceptions import Conflict, DomainError
from core.models import Tenant
from customers.models import Customer
from notifications import events
from notifications.events import event_emit
from resources.models import Resource
from resources.timespans import require_aware

AUTO_PICK_ATTEMPTS = 3


def _minutes(count: int) -> str:
    return f"{count} minute" if count == 1 else f"{count} minutes"


def _check_window(*, service: Service, starts_at: datetime, now: datetime) -> None:
    """The start must be in the future, after the service's minimum notice, within its horizon."""
    if starts_at < now:
        raise DomainError(
            f"{starts_at.isoformat()} has already passed.",
            code="in_past",
            fields={"starts_at": ["Choose a time in the future."]},
        )
    notice = service.min_notice_minutes
    if starts_at < now + timedelta(minutes=notice):
        raise DomainError(
            f"'{service.name}' must be booked at least {_minutes(notice)} ahead.",
            code="too_soon",
            fields={"starts_at": [f"At least {_minutes(notice)} from now."]},
        )
    if starts_at > now + timedelta(days=service.max_advance_days):
        raise DomainError(
            f"'{service.name}' can be booked at most {service.max_advance_days} days ahead.",
            code="too_far_ahead",
            fields={"starts_at": [f"At most {service.max_advance_days} days from now."]},
        )


def _unavailable(
    *,
    service: Service,
    starts_at: datetime,
    requirements: Sequence[Sequence[Resource]],
    candidates: Sequence[Sequence[Resource]],
    calendars: Sequence[Sequence[ResourceCalendar]],
) -> DomainError:
    """Why no combination of ``candidates`` (``requirements`` less the resources lost to a race)
    is free at ``starts_at``: a requirement none of whose resources works then (400
    ``outside_hours``), or resources taken by other bookings and blockers (409)."""
    start, duration = to_epoch(starts_at), service.duration_minutes * 60

    def works(c: ResourceCalendar) -> bool:  # with its own duration for the service, if any
        return c.is_open(start, duration if c.duration is None else c.duration)

    for every, still, calendars_of in zip(requirements, candidates, calendars, strict=True):
        lost_a_race = len(still) < len(every)
        if not lost_a_race and not any(works(c) for c in calendars_of):
            kinds = sorted({r.get_type_display().lower() for r in every})
            return DomainError(
                f"'{service.name}' cannot be booked at {starts_at.isoformat()}: no eligible "
                f"{' or '.join(kinds)} works then.",
                code="outside_hours",
                fields={
                    "starts_at": [
                        "Outside the working hours of every eligible resource; "
                        "ask /api/availability/ for free times."
                    ]
                },
            )
    busy = [
        r for still, calendars_of in zip(candidates, calendars, strict=True)
        for r, c in zip(still, calendars_of, strict=True)
        if works(c) and not c.admits(start)
    ]  # fmt: skip
    taken = ", ".join(f"'{r.name}'" for r in busy)
    why = f"{taken} already booked or blocked" if busy else "no combination of resources is free"
    return ResourceBusy(
        f"'{service.name}' cannot be booked at {starts_at.isoformat()}: {why} then.",
        resources=busy,
    )


def _pick_resources(
    *,
    service: Service,
    terms: ServiceTerms,
    starts_at: datetime,
    named: Sequence[Resource] | None,
    actor: Any = None,
    ignore_appointment_id: int | None = None,
    excluded: frozenset[int] = frozenset(),
) -> list[Resource]:
    """One free, eligible resource per requirement (the named ones when given), or why not."""
    requirements = service_requirements(service)
    if not requirements:
        raise DomainError(
            f"'{service.name}' needs no resources and cannot be booked; give it requirements.",
            fields={"service": ["This service has no resource requirements."]},
        )
    if any(not candidates for candidates in requirements):
        raise DomainError(
            f"'{service.name}' has a requirement no active resource can fill.",
            code="no_eligible_resource",
            fields={"service": ["Make an eligible resource active, or change the service."]},
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
        if any(not candidates for candidates in requirements):
            raise DomainError(
                f"'{service.name}' needs one resource for each of its requirements.",
                fields={"resources": ["Name one eligible resource per requirement."]},
            )
    # The actor's own resource first: a stylist booking without naming one gets themself.
    candidates = [
        sorted(
            (r for r in cands if r.pk not in excluded),
            key=lambda r: r.user_id is None or r.user_id != getattr(actor, "pk", None),
        )
        for cands in requirements
    ]

    before, after = service.buffer_before_minutes * 60, service.buffer_after_minutes * 60
    hold_start = starts_at - timedelta(seconds=before)
    hold_end = starts_at + timedelta(seconds=terms.longest + after)
    calendars = resource_calendars(
        requirements=candidates,
        lo=hold_start,
        hi=hold_end,
        ignore_appointment_id=ignore_appointment_id,
        durations=terms.durations,
    )
    chosen = resources_for_start(
        requirements=calendars,
        start=to_epoch(starts_at),
        duration=terms.duration,
        before=before,
        after=after,
    )
    if chosen is None:
        raise _unavailable(
            service=service,
            starts_at=starts_at,
            requirements=requirements,
            candidates=candidates,
            calendars=calendars,
        )
    by_id = {r.pk: r for cands in candidates for r in cands}
    return [by_id[pk] for pk in chosen]


def _hold_span(
    service: Service, starts_at: datetime, length: int
) -> tuple[datetime, datetime, datetime]:
    """The appointment's end and its hold's span (buffers included); ``length`` in seconds."""
    ends_at = starts_at + timedelta(seconds=length)
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
    intake_answers: dict[str, Any] | None = None,
    request: Any = None,
    now: datetime | None = None,
) -> tuple[Appointment, bool]:
    """Book ``service`` for ``customer`` at ``starts_at``: every resource or none.

    Returns the appointment, loaded for display from the rows this transaction wrote (nothing
    needs reading after the commit), and whether it was created now (False: an Idempotency-Key
    replay). The price and duration are those of the resources held (the service's unless
    they have their own, ``ServiceTerms``); another price needs ``manage_schedule``.
    ``intake_answers`` must fit the service's intake questions (400 ``invalid_intake`` naming
    the field). ``actor`` None: a guest on the public booking page
    (``appointments.services.guest``).
    """
    require_aware(starts_at=starts_at)
    with transaction.atomic():
        if idempotency_key:
            # Before anything else and settled by the database: concurrent requests with this
            # key queue on its lock, and each one after the first finds the first's appointment.
            replay = _idempotent_replay(actor=actor, key=idempotency_key, digest=request_digest)
            if replay is not None:
                return replay, False
        answers = intake_validate(schema=service.intake_schema, answers=intake_answers or {})
        appointment, held = book_one(
            tenant=tenant,
            actor=actor,
            service=service,
            customer=customer,
            starts_at=starts_at,
            resources=resources,
            price=price,
            now=now,
            fields={
                "customer": customer,
                "service": service,
                "notes": notes,
                "created_by": actor,
                "status": booking_status(tenant=tenant, customer=customer),
                "idempotency_key": idempotency_key,
                "request_digest": request_digest,
                "intake_answers": answers,
            },
        )
        security_event(
            "appointment_booked",
            request=request,
            actor=actor,
            subject=appointment,
            resources=[str(a.resource.public_id) for a in held],
        )
        event_emit(tenant=tenant, kind=events.APPOINTMENT_CREATED, subject=appointment)
    return appointment_shown(appointment, held), True


def book_one(
    *,
    tenant: Tenant,
    actor: Any,
    service: Service,
    customer: Customer,
    starts_at: datetime,
    resources: Sequence[Resource] | None,
    fields: dict[str, Any],
    price: Decimal | None = None,
    now: datetime | None = None,
) -> tuple[Appointment, list[Allocation]]:
    """One booking's checks and holds, inside the caller's transaction (a single booking, an
    occurrence of a series, a waitlist claim): a seat of the session at ``starts_at`` for a
    group service, else free resources of its own, at the price and for the length of the
    resources it holds (``price`` overrides, for those who may set prices)."""
    _check_bookable(service=service, customer=customer, starts_at=starts_at, now=now)
    # Every booking counts against the tier's monthly quota (one, a series' occurrence, a
    # claimed waitlist place), in the booking's transaction: a refused booking counts nothing.
    booking_quota_take(tenant=tenant, now=now or timezone.now())
    terms = service_terms(service)
    # Tenant-wide closures: checked under their shared lock (closures.selectors says why), for
    # the shortest this booking can take, then for its real length once it is known.
    shortest = starts_at + timedelta(seconds=terms.shortest)
    check_not_closed(starts_at=starts_at, ends_at=shortest)
    if service.is_group:
        permissions.check_may_set_price(
            user=actor, tenant=tenant, price=price, unchanged=service.price
        )
        fields = {**fields, "price": service.price if price is None else price}

        def open_session() -> GroupSession:
            return _open_session(
                tenant=tenant, actor=actor, service=service, terms=terms, starts_at=starts_at,
                resources=resources,
            )  # fmt: skip

        appointment = seat_take(
            service=service, starts_at=starts_at, open_session=open_session, fields=fields
        )
        # Staff seat customers only in sessions of their own resource, as they book.
        held_by_session = list(permissions.session_resources(appointment.session_id))
        permissions.check_may_hold(user=actor, tenant=tenant, resources=held_by_session)
        held: list[Allocation] = []
    else:
        appointment, held = _hold_first_free(
            tenant=tenant,
            actor=actor,
            service=service,
            terms=terms,
            starts_at=starts_at,
            resources=resources,
            price=price,
            fields=fields,
        )
    if appointment.ends_at > shortest:
        check_not_closed(starts_at=starts_at, ends_at=appointment.ends_at)
    return appointment, held


def _open_session(
    *,
    tenant: Tenant,
    actor: Any,
    service: Service,
    terms: ServiceTerms,
    starts_at: datetime,
    resources: Sequence[Resource] | None,
) -> GroupSession:
    """Open the session of a group service at ``starts_at``, holding its resources once. The
    session row goes in first: concurrent openers queue on its unique index. A session lasts
    the service's own duration (per-resource lengths are for one-to-one bookings)."""
    ends_at, hold_start, hold_end = _hold_span(service, starts_at, service.duration_minutes * 60)
    session = GroupSession.objects.create(
        service=service, starts_at=starts_at, ends_at=ends_at, capacity=service.capacity
    )
    chosen = _pick_resources(
        service=service, terms=terms, starts_at=starts_at, named=resources, actor=actor
    )
    permissions.check_may_hold(user=actor, tenant=tenant, resources=chosen)
    hold_resources(resources=chosen, start=hold_start, end=hold_end, session=session)
    return session


def _check_bookable(
    *, service: Service, customer: Customer, starts_at: datetime, now: datetime | None
) -> None:
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


def _hold_first_free(
    *,
    tenant: Tenant,
    actor: Any,
    service: Service,
    terms: ServiceTerms,
    starts_at: datetime,
    resources: Sequence[Resource] | None,
    price: Decimal | None,
    fields: dict[str, Any],
) -> tuple[Appointment, list[Allocation]]:
    """Create the appointment holding free resources (the named ones, or picked ones: a lost race
    for a picked resource tries the others, each attempt in a savepoint of the caller's
    transaction), at the price and for the length of the resources it holds."""
    excluded: frozenset[int] = frozenset()
    attempts = 1 if resources is not None else AUTO_PICK_ATTEMPTS
    for attempt in range(attempts):
        chosen = _pick_resources(
            service=service, terms=terms, starts_at=starts_at, named=resources, actor=actor,
            excluded=excluded,
        )  # fmt: skip
        permissions.check_may_hold(user=actor, tenant=tenant, resources=chosen)
        ids = [r.pk for r in chosen]
        permissions.check_may_set_price(
            user=actor, tenant=tenant, price=price, unchanged=terms.price_for(ids)
        )
        ends_at, hold_start, hold_end = _hold_span(service, starts_at, terms.duration_for(ids))
        try:
            with transaction.atomic():
                appointment = Appointment.objects.create(
                    starts_at=starts_at,
                    ends_at=ends_at,
                    price=terms.price_for(ids) if price is None else price,
                    **fields,
                )
                held = hold_resources(
                    resources=chosen, start=hold_start, end=hold_end, appointment=appointment
                )
                return appointment, held
        except ResourceBusy as conflict:
            # Lost a race for an automatically picked resource: try the others once more.
            if attempt + 1 == attempts:
                raise
            excluded = excluded | conflict.resource_ids
    raise AssertionError("unreachable: the last attempt returns or raises")


# Two-key advisory locks live apart from one-key ones (the tenant template's); this names ours.
_IDEMPOTENCY_LOCK_CLASS = 7_340_212


def _idempotent_replay(*, actor: Any, key: str, digest: str) -> Appointment | None:
    """The appointment ``actor`` already booked with ``key``, once any concurrent booking with
    that key has committed or rolled back (a transaction-scoped lock on the key's hash, so it
    also holds behind a transaction-pooling PgBouncer); None when there is none."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
            [_IDEMPOTENCY_LOCK_CLASS, f"{connection.schema_name}:{actor.pk}:{key}"],
        )
    existing = appointment_list().filter(created_by=actor, idempotency_key=key).first()
    if existing is not None and existing.request_digest != digest:
        raise Conflict(
            "This Idempotency-Key was already used for a different request.",
            code="idempotency_key_reused",
            fields={"Idempotency-Key": ["Already used with another body; use a new key."]},
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
    """Move an open appointment (same checks as booking); its old hold is released atomically.
    Returns it loaded for display from what this transaction wrote."""
    require_aware(starts_at=starts_at)
    appointment = appointment_locked(appointment.pk)
    if appointment.status not in OPEN_STATUSES:
        raise DomainError(
            f"A {appointment.status.lower()} appointment cannot be rescheduled.",
            code="invalid_transition",
            fields={"status": [appointment.status]},
        )
    if appointment.session_id is not None:
        raise DomainError(
            "A seat of a group session cannot be moved; cancel it and book another session.",
            code="invalid_transition",
            fields={"starts_at": ["Seats are not rescheduled."]},
        )
    service = appointment.service
    terms = service_terms(service)
    _check_window(service=service, starts_at=starts_at, now=now or timezone.now())
    shortest = starts_at + timedelta(seconds=terms.shortest)
    check_not_closed(starts_at=starts_at, ends_at=shortest)
    chosen = _pick_resources(
        service=service,
        terms=terms,
        starts_at=starts_at,
        named=resources,
        actor=actor,
        ignore_appointment_id=appointment.pk,
    )
    permissions.check_may_hold(user=actor, tenant=tenant, resources=chosen)
    # The length follows the resources now held; the price stays the one booked (owners and
    # managers change it with appointment_update).
    length = terms.duration_for(r.pk for r in chosen)
    ends_at, hold_start, hold_end = _hold_span(service, starts_at, length)
    if ends_at > shortest:
        check_not_closed(starts_at=starts_at, ends_at=ends_at)
    Allocation.objects.filter(appointment=appointment).delete()
    held = hold_resources(resources=chosen, start=hold_start, end=hold_end, appointment=appointment)
    previous = appointment.starts_at
    appointment.starts_at, appointment.ends_at = starts_at, ends_at
    appointment.save(update_fields=["starts_at", "ends_at", "updated_at"])
    security_event(
        "appointment_rescheduled",
        request=request,
        actor=actor,
        subject=appointment,
        previous_start=previous.isoformat(),
        start=starts_at.isoformat(),
    )
    event_emit(tenant=tenant, kind=events.APPOINTMENT_RESCHEDULED, subject=appointment)
    return appointment_shown(appointment, held)
