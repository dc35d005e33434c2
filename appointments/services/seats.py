"""Seats of group sessions (issue 13): a group service's resources are held once per session
(``GroupSession`` with its allocations) and each customer's appointment takes a seat.

The database decides every race: one open session per (service, start) by a partial unique
index, ``seats_taken`` moved only by conditional updates under a CHECK that keeps it within the
capacity, and one seat per customer by a partial unique index on the appointments (unless the
service allows several). Nothing here is decided by reading first and writing after.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F

from appointments.models import (
    SEAT_CONSTRAINT,
    SESSION_CONSTRAINT,
    Allocation,
    Appointment,
    GroupSession,
)
from catalog.models import Service
from core.exceptions import Conflict

SESSION_FULL = "session_full"


def session_full(session: GroupSession) -> Conflict:
    return Conflict(
        f"'{session.service.name}' at {session.starts_at.isoformat()} is full "
        f"({session.capacity} seats); join its waitlist at /api/waitlist/.",
        code=SESSION_FULL,
        fields={"starts_at": ["No seat left in this session."]},
    )


def session_for(
    *, service: Service, starts_at: datetime, open_session: Callable[[], GroupSession]
) -> GroupSession:
    """The open session of ``service`` at ``starts_at``, opened by ``open_session`` (which
    holds its resources) when there is none. Concurrent openers queue on the unique index: the
    first opens it, the others find it once the first commits."""
    found = GroupSession.objects.filter(service=service, starts_at=starts_at, is_open=True)
    session = found.select_related("service").first()
    if session is not None:
        return session
    try:
        with transaction.atomic():
            return open_session()
    except IntegrityError as error:
        if SESSION_CONSTRAINT not in str(error):
            raise
    session = found.select_related("service").first()
    if session is None:  # opened and closed again while we waited: rare, and safe to retry
        raise Conflict("The session changed while booking; try again.", code="conflict") from None
    return session


def seat_take(
    *, service: Service, starts_at: datetime, open_session: Callable[[], GroupSession], fields: dict
) -> Appointment:
    """A seat of the session at ``starts_at`` for ``fields['customer']``: 409 ``session_full``
    when none is left, ``already_seated`` when the customer holds one and the service allows
    only one. Must run inside the caller's transaction."""
    for attempt in range(2):
        session = session_for(service=service, starts_at=starts_at, open_session=open_session)
        taken = GroupSession.objects.filter(
            pk=session.pk, is_open=True, seats_taken__lt=F("capacity")
        ).update(seats_taken=F("seats_taken") + 1)
        if taken:
            break
        closed = not GroupSession.objects.filter(pk=session.pk, is_open=True).exists()
        if not (closed and attempt == 0):  # closed meanwhile: open a new one, once
            raise session_full(session)
    return _seat_appointment(session=session, service=service, fields=fields)


def seat_fill_reserved(*, session: GroupSession, fields: dict) -> Appointment:
    """The appointment for a seat already counted in ``seats_taken`` (kept for a waitlist
    offer)."""
    return _seat_appointment(session=session, service=session.service, fields=fields)


def _seat_appointment(*, session: GroupSession, service: Service, fields: dict) -> Appointment:
    try:
        with transaction.atomic():
            return Appointment.objects.create(
                session=session,
                starts_at=session.starts_at,
                ends_at=session.ends_at,
                single_seat=not service.allow_multiple_seats,
                **fields,
            )
    except IntegrityError as error:
        if SEAT_CONSTRAINT not in str(error):
            raise
    customer = fields["customer"]
    raise Conflict(
        f"'{customer.name}' already has a seat in this session of '{service.name}'.",
        code="already_seated",
        fields={"customer": ["Already holds a seat in this session."]},
    )


def seat_free(*, session_id: int) -> None:
    """Give a seat back; the last one closes the session and frees its resources."""
    GroupSession.objects.filter(pk=session_id).update(seats_taken=F("seats_taken") - 1)
    emptied = GroupSession.objects.filter(pk=session_id, seats_taken=0, is_open=True).update(
        is_open=False
    )
    if emptied:
        Allocation.objects.filter(session_id=session_id).update(is_live=False)
