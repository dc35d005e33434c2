"""The waitlist (issue 13): join a full slot or session, leave it, claim an offered place.

Offers are made when a place frees up (``offers.place_release``, from a cancellation). A claim
link is signed (``notifications.links``, salted with the tenant) and checked against the entry's
own expiry; the entry's row lock makes a link work once, so two claims racing for one place give
one booking and one clear refusal (409 ``offer_not_available``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from appointments.booking_policy import booking_status
from appointments.models import Allocation, Appointment, GroupSession, WaitlistEntry, WaitlistStatus
from appointments.selectors import appointment_shown, service_terms
from appointments.services.booking import _check_window, _pick_resources, book_one
from appointments.services.holds import ResourceBusy
from appointments.services.offers import CLAIM_PURPOSE, offer_lapse, offer_window
from appointments.services.seats import seat_fill_reserved
from catalog.models import Service
from core.audit import security_event
from core.exceptions import Conflict, DomainError, NotFound
from customers.models import Customer
from notifications import events
from notifications.events import event_emit
from notifications.links import link_value
from resources.timespans import require_aware
from tenancy.models import Tenant
from users.models import User

OPEN_ENTRY = (WaitlistStatus.WAITING, WaitlistStatus.OFFERED)


def _require_full(*, service: Service, starts_at: datetime, actor: User) -> None:
    """409 ``slot_available`` unless the place is taken: the session has no seat left, or no
    combination of resources is free (a 400 when nobody works then at all)."""
    if service.is_group:
        session = GroupSession.objects.filter(
            service=service, starts_at=starts_at, is_open=True
        ).first()
        if session is not None and session.seats_taken >= session.capacity:
            return
    if not service.is_group or session is None:
        try:
            _pick_resources(
                service=service, terms=service_terms(service), starts_at=starts_at, named=None,
                actor=actor,
            )  # fmt: skip
        except ResourceBusy:
            return
    raise Conflict(
        f"'{service.name}' at {starts_at.isoformat()} still has a free place: book it instead.",
        code="slot_available",
        fields={"starts_at": ["Not full; book it at /api/appointments/."]},
    )


def waitlist_join(
    *,
    tenant: Tenant,
    actor: User,
    service: Service,
    customer: Customer,
    starts_at: datetime,
    request: Any = None,
    now: datetime | None = None,
) -> WaitlistEntry:
    """Put ``customer`` on the waitlist of the full slot or session of ``service`` at
    ``starts_at``."""
    require_aware(starts_at=starts_at)
    with transaction.atomic():
        _check_window(service=service, starts_at=starts_at, now=now or timezone.now())
        _require_full(service=service, starts_at=starts_at, actor=actor)
        try:
            with transaction.atomic():
                entry = WaitlistEntry.objects.create(
                    service=service, customer=customer, starts_at=starts_at, created_by=actor
                )
        except IntegrityError:
            raise Conflict(
                f"'{customer.name}' is already on this waitlist.",
                code="already_waiting",
                fields={"starts_at": ["Already waiting for this time."]},
            ) from None
        security_event(
            "waitlist_joined", request=request, actor=actor, subject=entry,
            service=str(service.public_id), starts_at=starts_at.isoformat(),
        )  # fmt: skip
    return entry


@transaction.atomic
def waitlist_leave(
    *,
    tenant: Tenant,
    actor: User,
    entry: WaitlistEntry,
    request: Any = None,
    now: datetime | None = None,
) -> WaitlistEntry:
    """Take an entry off the waitlist; an offer it held passes to the next customer."""
    entry = WaitlistEntry.objects.select_for_update().select_related("service").get(pk=entry.pk)
    if entry.status not in OPEN_ENTRY:
        raise DomainError(
            f"This waitlist entry is {entry.status.lower()} already.",
            code="invalid_transition",
            fields={"status": [entry.status]},
        )
    offer_lapse(tenant=tenant, entry=entry, now=now or timezone.now(), status=WaitlistStatus.LEFT)
    security_event("waitlist_left", request=request, actor=actor, subject=entry)
    return entry


def waitlist_claim(
    *, tenant: Tenant, token: str, request: Any = None, now: datetime | None = None
) -> Appointment:
    """Book the place offered by the claim link ``token``, for the customer it was offered to.
    404 ``invalid_link`` for a forged or foreign link, 409 ``offer_expired`` once its time is up
    (the place then passes on), 409 ``offer_not_available`` when it was already claimed or
    withdrawn."""
    value = link_value(purpose=CLAIM_PURPOSE, tenant=tenant, token=token, max_age=offer_window())
    now = now or timezone.now()
    with transaction.atomic():
        entry = (
            WaitlistEntry.objects.select_for_update(of=("self",))
            .select_related("service", "customer")
            .filter(public_id=value)
            .first()
        )
        if entry is None:
            raise NotFound("This link is not valid (or no longer).", code="invalid_link")
        if entry.status != WaitlistStatus.OFFERED:
            raise Conflict(
                f"This offer is {entry.status.lower()}; it cannot be claimed again.",
                code="offer_not_available",
            )
        expires_at = entry.offer_expires_at
        expired = expires_at is not None and expires_at <= now
        if expired:
            offer_lapse(tenant=tenant, entry=entry, now=now)
            security_event("waitlist_offer_expired", request=request, subject=entry)
        else:
            appointment = _claim(tenant=tenant, entry=entry, now=now, request=request)
    if expired:  # after the commit: the place has passed on
        raise Conflict(
            "This offer has expired; the place went to the next customer waiting.",
            code="offer_expired",
        )
    return appointment


def _claim(*, tenant: Tenant, entry: WaitlistEntry, now: datetime, request: Any) -> Appointment:
    actor = entry.created_by
    service, customer = entry.service, entry.customer
    fields = {
        "customer": customer, "service": service, "notes": "",
        "created_by": actor, "status": booking_status(tenant=tenant, customer=customer),
    }  # fmt: skip
    held: list[Allocation] = []
    if entry.reserves_seat:
        session = GroupSession.objects.select_for_update().get(
            service=service, starts_at=entry.starts_at, is_open=True
        )
        seat = {**fields, "price": service.price}
        appointment = seat_fill_reserved(session=session, fields=seat)
    else:
        appointment, held = book_one(
            tenant=tenant, actor=actor, service=service, customer=customer,
            starts_at=entry.starts_at, resources=None, fields=fields, now=now,
        )  # fmt: skip
    entry.status = WaitlistStatus.CLAIMED
    entry.appointment = appointment
    entry.save(update_fields=["status", "appointment", "updated_at"])
    security_event(
        "waitlist_claimed", request=request, actor=actor, subject=entry,
        appointment=str(appointment.public_id),
    )  # fmt: skip
    event_emit(tenant=tenant, kind=events.APPOINTMENT_CREATED, subject=appointment)
    return appointment_shown(appointment, held)


@transaction.atomic
def waitlist_offers_expire(*, tenant: Tenant, now: datetime | None = None) -> int:
    """Expire the offers whose time is up in the current schema; their kept seats pass on."""
    now = now or timezone.now()
    lapsed = list(
        WaitlistEntry.objects.select_for_update(skip_locked=True)
        .select_related("service")
        .filter(status=WaitlistStatus.OFFERED, offer_expires_at__lte=now)
        .order_by("offer_expires_at", "id")
    )
    for entry in lapsed:
        offer_lapse(tenant=tenant, entry=entry, now=now)
    if lapsed:
        security_event(
            "waitlist_offers_expired", actor=None, tenant=tenant,
            entries=[str(e.public_id) for e in lapsed],
        )  # fmt: skip
    return len(lapsed)
