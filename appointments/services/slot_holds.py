"""Slot holds: a visitor holds a slot for ``SLOT_HOLD_MINUTES`` while filling in the booking
form; the hold becomes the booking, or lapses by itself.

A hold is allocation rows like a booking's, under the same exclusion constraint, whose liveness
range ends at the hold's expiry: while it runs, the database refuses any other booking, blocker
or hold of those resources at that time (two visitors holding the same slot at once: one wins,
the other gets 409); once it has expired the constraint ignores its rows, without any job having
to delete them first. Both ends of the liveness range are read from the database's clock, the
one the constraint compares them with.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import connection, transaction
from django.db.models.functions import Now
from django.utils import timezone

from appointments.models import Allocation, SlotHold
from appointments.selectors import service_terms
from appointments.services.booking import (
    AUTO_PICK_ATTEMPTS,
    _check_window,
    _hold_span,
    _pick_resources,
)
from appointments.services.holds import ResourceBusy, hold_resources
from catalog.models import Service
from closures.selectors import check_not_closed
from core.audit import security_event
from core.exceptions import DomainError
from resources.models import Resource
from resources.timespans import require_aware
from tenancy.models import Tenant


def _database_now() -> datetime:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement_timestamp()")
        return cursor.fetchone()[0]


def slot_hold_create(
    *,
    tenant: Tenant,
    service: Service,
    starts_at: datetime,
    resources: Sequence[Resource] | None = None,
    request: Any = None,
    now: datetime | None = None,
) -> tuple[SlotHold, list[Allocation]]:
    """Hold ``service`` at ``starts_at`` (the named resources, or free ones picked as a booking
    would) for ``SLOT_HOLD_MINUTES``. The same checks as booking (notice, horizon, hours); a slot
    someone else booked, blocked or holds is a 409 ``resource_busy``."""
    require_aware(starts_at=starts_at)
    if not service.is_active:
        raise DomainError(
            "This service is not offered any more.", fields={"service": ["Inactive."]}
        )
    with transaction.atomic():
        _check_window(service=service, starts_at=starts_at, now=now or timezone.now())
        live_from = _database_now()
        expires_at = live_from + timedelta(minutes=settings.SLOT_HOLD_MINUTES)
        terms = service_terms(service)
        check_not_closed(starts_at=starts_at, ends_at=starts_at + timedelta(seconds=terms.shortest))
        excluded: frozenset[int] = frozenset()
        attempts = 1 if resources is not None else AUTO_PICK_ATTEMPTS
        for attempt in range(attempts):
            chosen = _pick_resources(
                service=service, terms=terms, starts_at=starts_at, named=resources,
                excluded=excluded,
            )  # fmt: skip
            length = terms.duration_for([r.pk for r in chosen])
            ends_at, hold_start, hold_end = _hold_span(service, starts_at, length)
            check_not_closed(starts_at=starts_at, ends_at=ends_at)
            try:
                with transaction.atomic():
                    hold = SlotHold.objects.create(
                        service=service, starts_at=starts_at, expires_at=expires_at
                    )
                    held = hold_resources(
                        hold=hold, resources=chosen, start=hold_start, end=hold_end,
                        live_from=live_from,
                    )  # fmt: skip
                break
            except ResourceBusy as conflict:
                if attempt + 1 == attempts:
                    raise
                excluded = excluded | conflict.resource_ids
        security_event(
            "slot_hold_created",
            request=request,
            subject=hold,
            service=str(service.public_id),
            starts_at=starts_at.isoformat(),
            expires_at=expires_at.isoformat(),
            resources=[str(a.resource.public_id) for a in held],
        )
    return hold, held


def slot_hold_take(
    *, hold_id: UUID | str, service: Service, starts_at: datetime
) -> list[Resource] | None:
    """Inside a booking's transaction: remove the hold ``hold_id`` so the booking can take its
    slot. Returns the resources it held while live (the booking holds the same ones), or None
    once it has expired (the booking then picks free resources like any other). A hold is used
    once: an unknown or used one, or one for another service or time, is a 400."""
    hold = SlotHold.objects.select_for_update().filter(public_id=hold_id).first()
    if hold is None:
        raise DomainError(
            "This slot hold does not exist or was used already.",
            fields={"hold": ["Unknown or used hold; book without it or hold the slot again."]},
        )
    if hold.service_id != service.pk or hold.starts_at != starts_at:
        raise DomainError(
            "This slot hold is for another service or time.",
            fields={"hold": ["Held for another service or start time."]},
        )
    live = SlotHold.objects.filter(pk=hold.pk, expires_at__gt=Now()).exists()
    held = [a.resource for a in hold.allocations.select_related("resource").order_by("id")]
    hold.delete()
    return held if live and held else None
