"""Offering a freed place to the waitlist (issue 13): first come, first served.

A cancelled appointment's place goes to the earliest waiting customer of the same service and
start, with a claim link valid for ``WAITLIST_OFFER_MINUTES``. A freed seat of a group session is
kept for the offer (it stays counted in ``seats_taken``) until it is claimed or the offer expires;
a freed one-to-one slot is announced, not kept: its claim books like any booking, so whoever is
first, the exclusion constraint decides.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.urls import reverse

from appointments.models import Appointment, GroupSession, WaitlistEntry, WaitlistStatus
from appointments.services.seats import seat_free
from catalog.models import Service
from notifications.events import event_record
from notifications.links import link_token, tenant_base_url
from tenancy.models import Tenant

WAITLIST_OFFERED = "waitlist.offered"
CLAIM_PURPOSE = "waitlist-claim"


def offer_window() -> timedelta:
    return timedelta(minutes=settings.WAITLIST_OFFER_MINUTES)


def claim_token(*, tenant: Tenant, entry: WaitlistEntry) -> str:
    return link_token(purpose=CLAIM_PURPOSE, tenant=tenant, value=str(entry.public_id))


def claim_path(*, tenant: Tenant, entry: WaitlistEntry) -> str:
    token = claim_token(tenant=tenant, entry=entry)
    return reverse("waitlist-claim", urlconf="config.urls_tenant", kwargs={"token": token})


def waitlist_offer_next(
    *, tenant: Tenant, service: Service, starts_at: datetime, reserve_seat: bool, now: datetime
) -> WaitlistEntry | None:
    """Offer the place to the earliest waiting customer (row-locked, skipping entries another
    transaction is offering); None when nobody waits. Writes inside the caller's audited
    transaction; the offer goes out through the outbox once it commits."""
    entry = (
        WaitlistEntry.objects.select_for_update(skip_locked=True)
        .filter(service=service, starts_at=starts_at, status=WaitlistStatus.WAITING)
        .select_related("customer")
        .order_by("created_at", "id")
        .first()
    )
    if entry is None:
        return None
    entry.status = WaitlistStatus.OFFERED
    entry.offered_at = now
    entry.offer_expires_at = now + offer_window()
    entry.reserves_seat = reserve_seat
    entry.save(
        update_fields=["status", "offered_at", "offer_expires_at", "reserves_seat", "updated_at"]
    )
    event_record(
        tenant=tenant,
        kind=WAITLIST_OFFERED,
        payload={
            "id": str(entry.public_id),
            "service": {"id": str(service.public_id), "name": service.name},
            "customer": {
                "id": str(entry.customer.public_id),
                "name": entry.customer.name,
                "email": entry.customer.email,
            },
            "starts_at": starts_at.isoformat(),
            "expires_at": entry.offer_expires_at.isoformat(),
            "claim_url": tenant_base_url(tenant) + claim_path(tenant=tenant, entry=entry),
        },
    )
    return entry


def place_release(*, tenant: Tenant, appointment: Appointment, now: datetime) -> None:
    """What a cancellation frees: offered to the waitlist first; a seat nobody waits for is
    given back to its session."""
    offered = waitlist_offer_next(
        tenant=tenant,
        service=appointment.service,
        starts_at=appointment.starts_at,
        reserve_seat=appointment.session_id is not None,
        now=now,
    )
    if offered is None and appointment.session_id is not None:
        seat_free(session_id=appointment.session_id)


def offer_lapse(
    *, tenant: Tenant, entry: WaitlistEntry, now: datetime, status: str = WaitlistStatus.EXPIRED
) -> None:
    """An offer that expired (or was given up, ``status`` LEFT): its kept seat passes to the
    next waiting customer, or back to the session."""
    entry.status = status
    entry.save(update_fields=["status", "updated_at"])
    if not entry.reserves_seat:
        return
    passed = waitlist_offer_next(
        tenant=tenant, service=entry.service, starts_at=entry.starts_at, reserve_seat=True, now=now
    )
    if passed is None:
        session = GroupSession.objects.filter(
            service=entry.service, starts_at=entry.starts_at, is_open=True
        ).first()
        if session is not None:
            seat_free(session_id=session.pk)
