"""Booking and rescheduling: pick free resources (or check the named ones), then hold them all
in one transaction, all or nothing."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, cast

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
from core.db.base import DatabaseWrapper
from core.exceptions import Conflict, DomainError, PermissionDenied
from customers.models import Customer
from customers.services import customer_for_booking_user
from notifications import events
from notifications.events import event_emit
from resources.models import Resource
from resources.timespans import require_aware
from tenancy.models import Tenant
from users.models import User

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
    actor: User | None = None,
    ignore_appointment_id: int | None = None,
    excluded: frozenset[int] = frozenset(),
) -> list[Resource]:
    """One free, eligible resource per requirement (the named ones when given), or why not."""
    requirements = _requirements(service, named=named)
    candidates = _own_first(requirements, actor=actor, excluded=excluded)
    calendars = _calendars(
        service=service, terms=terms, starts_at=starts_at, candidates=candidates,
        ignore_appointment_id=ignore_appointment_id,
    )  # fmt: skip
    before, after = _buffers(service)
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


def _requirements(service: Service, *, named: Sequence[Resource] | None) -> list[list[Resource]]:
    """The active eligible resources of each requirement (only the named ones, when given)."""
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
    if named is None:
        return requirements
    return _narrow_to_named(service, requirements=requirements, named=named)


def _narrow_to_named(
    service: Service, *, requirements: list[list[Resource]], named: Sequence[Resource]
) -> list[list[Resource]]:
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
    narrowed = [[r for r in cands if r.pk in named_ids] for cands in requirements]
    if any(not candidates for candidates in narrowed):
        raise DomainError(
            f"'{service.name}' needs one resource for each of its requirements.",
            fields={"resources": ["Name one eligible resource per requirement."]},
        )
    return narrowed


def _own_first(
    requirements: Sequence[Sequence[Resource]], *, actor: User | None, excluded: frozenset[int]
) -> list[list[Resource]]:
    """Each requirement's candidates less ``excluded``, the actor's own resource first: a
    stylist booking without naming one gets themself."""
    return [
        sorted(
            (r for r in cands if r.pk not in excluded),
            key=lambda r: r.user_id is None or r.user_id != getattr(actor, "pk", None),
        )
        for cands in requirements
    ]


def _buffers(service: Service) -> tuple[int, int]:
    """The service's buffers before and after, in seconds."""
    return service.buffer_before_minutes * 60, service.buffer_after_minutes * 60


def _calendars(
    *,
    service: Service,
    terms: ServiceTerms,
    starts_at: datetime,
    candidates: Sequence[Sequence[Resource]],
    ignore_appointment_id: int | None,
) -> list[list[ResourceCalendar]]:
    """The candidates' calendars over the longest hold a booking at ``starts_at`` can need."""
    before, after = _buffers(service)
    return resource_calendars(
        requirements=candidates,
        lo=starts_at - timedelta(seconds=before),
        hi=starts_at + timedelta(seconds=terms.longest + after),
        ignore_appointment_id=ignore_appointment_id,
        durations=terms.durations,
    )


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


@dataclass(frozen=True)
class BookingRequest:
    """One booking as asked: who books what for whom and when, passed whole from step to step.
    ``resources`` None picks free ones; ``price`` None is the price of the resources held;
    ``now`` None is the clock's."""

    tenant: Tenant
    actor: User | None
    service: Service
    customer: Customer
    starts_at: datetime
    resources: Sequence[Resource] | None = None
    price: Decimal | None = None
    notes: str = ""
    idempotency_key: str = ""
    request_digest: str = ""
    intake_answers: dict[str, Any] | None = None
    now: datetime | None = None


def appointment_book(
    *,
    tenant: Tenant,
    actor: User | None,
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
    booking = BookingRequest(
        tenant=tenant, actor=actor, service=service, customer=customer, starts_at=starts_at,
        resources=resources, price=price, notes=notes, idempotency_key=idempotency_key,
        request_digest=request_digest, intake_answers=intake_answers, now=now,
    )  # fmt: skip
    return _book(booking, request=request)


def appointment_book_as_user(
    *,
    tenant: Tenant,
    actor: User,
    service: Service,
    customer: Customer | None,
    starts_at: datetime,
    resources: Sequence[Resource] | None = None,
    price: Decimal | None = None,
    notes: str = "",
    idempotency_key: str = "",
    request_digest: str = "",
    intake_answers: dict[str, Any] | None = None,
    request: Any = None,
) -> tuple[Appointment, bool]:
    """``appointment_book`` as a signed-in user asks for it, for the customer
    ``customer_booked_for`` gives."""
    booking = BookingRequest(
        tenant=tenant, actor=actor, service=service,
        customer=customer_booked_for(tenant=tenant, actor=actor, named=customer),
        starts_at=starts_at, resources=resources, price=price, notes=notes,
        idempotency_key=idempotency_key, request_digest=request_digest,
        intake_answers=intake_answers,
    )  # fmt: skip
    return _book(booking, request=request)


def customer_booked_for(
    *,
    tenant: Tenant,
    actor: User,
    named: Customer | None,
    refusal: str = "Customers book for themselves only.",
) -> Customer:
    """Whom a signed-in user's booking (an appointment, a series, a place on a waitlist) is
    for: a customer books for itself (its customer record is made on its first booking) and
    may name no one else (403 ``refusal``); the business's people must name the customer (400
    on ``customer``)."""
    if permissions.books_for_self(user=actor, tenant=tenant):
        if named is not None and named.user_id != actor.pk:
            raise PermissionDenied(refusal)
        return customer_for_booking_user(user=actor)
    if named is None:
        raise DomainError(
            "This field is required.", fields={"customer": ["This field is required."]}
        )
    return named


def _book(booking: BookingRequest, *, request: Any) -> tuple[Appointment, bool]:
    require_aware(starts_at=booking.starts_at)
    with transaction.atomic():
        if booking.idempotency_key:
            # Before anything else and settled by the database: concurrent requests with this
            # key queue on its lock, and each one after the first finds the first's appointment.
            replay = _idempotent_replay(
                actor=booking.actor, key=booking.idempotency_key, digest=booking.request_digest
            )
            if replay is not None:
                return replay, False
        appointment, held = _book_new(booking)
        security_event(
            "appointment_booked",
            request=request,
            actor=booking.actor,
            subject=appointment,
            resources=[str(a.resource.public_id) for a in held],
        )
        event_emit(tenant=booking.tenant, kind=events.APPOINTMENT_CREATED, subject=appointment)
    return appointment_shown(appointment, held), True


def _book_new(booking: BookingRequest) -> tuple[Appointment, list[Allocation]]:
    """The appointment's row with what the booking asks, through ``book_one``'s checks."""
    service, customer = booking.service, booking.customer
    answers = intake_validate(schema=service.intake_schema, answers=booking.intake_answers or {})
    fields = {
        "customer": customer,
        "service": service,
        "notes": booking.notes,
        "created_by": booking.actor,
        "status": booking_status(tenant=booking.tenant, customer=customer),
        "idempotency_key": booking.idempotency_key,
        "request_digest": booking.request_digest,
        "intake_answers": answers,
    }
    return _book_one(booking, fields=fields)


def book_one(
    *,
    tenant: Tenant,
    actor: User | None,
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
    resources it holds (``price`` overrides, for those who may set prices). ``fields`` are the
    appointment row's own (customer, service, notes, status...)."""
    booking = BookingRequest(
        tenant=tenant, actor=actor, service=service, customer=customer, starts_at=starts_at,
        resources=resources, price=price, now=now,
    )  # fmt: skip
    return _book_one(booking, fields=fields)


def _book_one(
    booking: BookingRequest, *, fields: dict[str, Any]
) -> tuple[Appointment, list[Allocation]]:
    service, starts_at = booking.service, booking.starts_at
    _check_bookable(
        service=service, customer=booking.customer, starts_at=starts_at, now=booking.now
    )
    # Every booking counts against the tier's monthly quota (one, a series' occurrence, a
    # claimed waitlist place), in the booking's transaction: a refused booking counts nothing.
    booking_quota_take(tenant=booking.tenant, now=booking.now or timezone.now())
    terms = service_terms(service)
    # Tenant-wide closures: checked under their shared lock (closures.selectors says why), for
    # the shortest this booking can take, then for its real length once it is known.
    shortest = starts_at + timedelta(seconds=terms.shortest)
    check_not_closed(starts_at=starts_at, ends_at=shortest)
    if service.is_group:
        appointment = _take_seat(booking, terms=terms, fields=fields)
        held: list[Allocation] = []
    else:
        appointment, held = _hold_first_free(booking, terms=terms, fields=fields)
    if appointment.ends_at > shortest:
        check_not_closed(starts_at=starts_at, ends_at=appointment.ends_at)
    return appointment, held


def _take_seat(
    booking: BookingRequest, *, terms: ServiceTerms, fields: dict[str, Any]
) -> Appointment:
    """A seat of the group session at the booking's start, opening the session if need be."""
    service, actor, tenant = booking.service, booking.actor, booking.tenant
    permissions.check_may_set_price(
        user=actor, tenant=tenant, price=booking.price, unchanged=service.price
    )
    fields = {**fields, "price": service.price if booking.price is None else booking.price}
    appointment = seat_take(
        service=service,
        starts_at=booking.starts_at,
        open_session=functools.partial(_open_session, booking, terms=terms),
        fields=fields,
    )
    # Staff seat customers only in sessions of their own resource, as they book.
    held_by_session = list(permissions.seat_session_resources(appointment))
    permissions.check_may_hold(user=actor, tenant=tenant, resources=held_by_session)
    return appointment


def _open_session(booking: BookingRequest, *, terms: ServiceTerms) -> GroupSession:
    """Open the session of a group service at ``starts_at``, holding its resources once. The
    session row goes in first: concurrent openers queue on its unique index. A session lasts
    the service's own duration (per-resource lengths are for one-to-one bookings)."""
    service, starts_at = booking.service, booking.starts_at
    ends_at, hold_start, hold_end = _hold_span(service, starts_at, service.duration_minutes * 60)
    session = GroupSession.objects.create(
        service=service, starts_at=starts_at, ends_at=ends_at, capacity=service.capacity
    )
    chosen = _pick_resources(
        service=service, terms=terms, starts_at=starts_at, named=booking.resources,
        actor=booking.actor,
    )  # fmt: skip
    permissions.check_may_hold(user=booking.actor, tenant=booking.tenant, resources=chosen)
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
    booking: BookingRequest, *, terms: ServiceTerms, fields: dict[str, Any]
) -> tuple[Appointment, list[Allocation]]:
    """Create the appointment holding free resources (the named ones, or picked ones: a lost race
    for a picked resource tries the others, each attempt in a savepoint of the caller's
    transaction), at the price and for the length of the resources it holds."""
    excluded: frozenset[int] = frozenset()
    attempts = 1 if booking.resources is not None else AUTO_PICK_ATTEMPTS
    for attempt in range(attempts):
        chosen = _pick_resources(
            service=booking.service, terms=terms, starts_at=booking.starts_at,
            named=booking.resources, actor=booking.actor, excluded=excluded,
        )  # fmt: skip
        try:
            return _hold_chosen(booking, terms=terms, chosen=chosen, fields=fields)
        except ResourceBusy as conflict:
            # Lost a race for an automatically picked resource: try the others once more.
            if attempt + 1 == attempts:
                raise
            excluded = excluded | conflict.resource_ids
    raise AssertionError("unreachable: the last attempt returns or raises")


def _hold_chosen(
    booking: BookingRequest,
    *,
    terms: ServiceTerms,
    chosen: Sequence[Resource],
    fields: dict[str, Any],
) -> tuple[Appointment, list[Allocation]]:
    """The appointment holding ``chosen``, in a savepoint: a lost race undoes only this try."""
    actor, tenant, price = booking.actor, booking.tenant, booking.price
    permissions.check_may_hold(user=actor, tenant=tenant, resources=chosen)
    ids = [r.pk for r in chosen]
    permissions.check_may_set_price(
        user=actor, tenant=tenant, price=price, unchanged=terms.price_for(ids)
    )
    ends_at, hold_start, hold_end = _hold_span(
        booking.service, booking.starts_at, terms.duration_for(ids)
    )
    with transaction.atomic():
        appointment = Appointment.objects.create(
            starts_at=booking.starts_at,
            ends_at=ends_at,
            price=terms.price_for(ids) if price is None else price,
            **fields,
        )
        held = hold_resources(
            resources=chosen, start=hold_start, end=hold_end, appointment=appointment
        )
    return appointment, held


# Two-key advisory locks live apart from one-key ones (the tenant template's); this names ours.
_IDEMPOTENCY_LOCK_CLASS = 7_340_212


def _idempotent_replay(*, actor: User | None, key: str, digest: str) -> Appointment | None:
    """The appointment ``actor`` already booked with ``key``, once any concurrent booking with
    that key has committed or rolled back (a transaction-scoped lock on the key's hash, so it
    also holds behind a transaction-pooling PgBouncer); None when there is none."""
    schema = cast(DatabaseWrapper, connection).schema_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
            [_IDEMPOTENCY_LOCK_CLASS, f"{schema}:{getattr(actor, 'pk', None)}:{key}"],
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
    actor: User | None,
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
    _check_movable(appointment)
    service = appointment.service
    terms = service_terms(service)
    _check_window(service=service, starts_at=starts_at, now=now or timezone.now())
    shortest = starts_at + timedelta(seconds=terms.shortest)
    check_not_closed(starts_at=starts_at, ends_at=shortest)
    chosen = _pick_resources(
        service=service, terms=terms, starts_at=starts_at, named=resources, actor=actor,
        ignore_appointment_id=appointment.pk,
    )  # fmt: skip
    permissions.check_may_hold(user=actor, tenant=tenant, resources=chosen)
    # The length follows the resources now held; the price stays the one booked (owners and
    # managers change it with appointment_update).
    span = _hold_span(service, starts_at, terms.duration_for(r.pk for r in chosen))
    if span[0] > shortest:
        check_not_closed(starts_at=starts_at, ends_at=span[0])
    previous = appointment.starts_at
    held = _move(appointment, chosen=chosen, starts_at=starts_at, span=span)
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


def _check_movable(appointment: Appointment) -> None:
    """Only an open appointment of its own moves; a seat of a group session does not."""
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


def _move(
    appointment: Appointment,
    *,
    chosen: Sequence[Resource],
    starts_at: datetime,
    span: tuple[datetime, datetime, datetime],
) -> list[Allocation]:
    """Release the appointment's hold and take ``chosen`` for ``span`` (``_hold_span``)."""
    ends_at, hold_start, hold_end = span
    Allocation.objects.filter(appointment=appointment).delete()
    held = hold_resources(resources=chosen, start=hold_start, end=hold_end, appointment=appointment)
    appointment.starts_at, appointment.ends_at = starts_at, ends_at
    appointment.save(update_fields=["starts_at", "ends_at", "updated_at"])
    return held
