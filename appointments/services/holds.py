"""Holding time: the allocation rows every booking and blocker writes, and the checks all of
them share. The exclusion constraint ``allocation_no_overlap`` rejects a double booking; this
module turns that rejection into ``ResourceBusy`` (409) naming the busy resource."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import IntegrityError, transaction

from appointments.models import (
    ALLOCATION_EXCLUSION,
    Allocation,
    Appointment,
    Blocker,
    GroupSession,
    SlotHold,
)
from core.exceptions import Conflict
from resources.models import Resource


def is_exclusion_violation(error: IntegrityError) -> bool:
    cause = error.__cause__
    return getattr(cause, "sqlstate", None) == "23P01" or ALLOCATION_EXCLUSION in str(error)


class ResourceBusy(Conflict):
    """Some resources are held by another appointment or a blocker at that time."""

    default_code = "resource_busy"

    def __init__(self, message: str, *, resources: Sequence[Resource]) -> None:
        taken = [f"'{r.name}' ({r.public_id}) is booked or blocked then." for r in resources]
        super().__init__(message, fields={"resources": taken} if taken else None)
        self.resource_ids = frozenset(r.pk for r in resources)


def busy_conflict(resource: Resource, start: datetime, end: datetime) -> ResourceBusy:
    return ResourceBusy(
        f"'{resource.name}' is already booked or blocked between "
        f"{start.isoformat()} and {end.isoformat()}.",
        resources=[resource],
    )


def hold_resources(
    *,
    resources: Sequence[Resource],
    start: datetime,
    end: datetime,
    appointment: Appointment | None = None,
    blocker: Blocker | None = None,
    session: GroupSession | None = None,
    hold: SlotHold | None = None,
    live_from: datetime | None = None,
) -> list[Allocation]:
    """Insert one allocation per resource, one statement each so a rejection names its resource.
    Must run inside the caller's transaction: the first rejection rolls the whole write back.
    A slot hold's rows are live from ``live_from`` until the hold expires."""
    holder: dict[str, object] = {"appointment": appointment, "blocker": blocker, "session": session}
    if hold is not None:
        holder |= {"hold": hold, "live_from": live_from, "expires_at": hold.expires_at}
    held = []
    for resource in resources:
        try:
            with transaction.atomic():
                held.append(
                    Allocation.objects.create(
                        resource=resource, starts_at=start, ends_at=end, **holder
                    )
                )
        except IntegrityError as error:
            if is_exclusion_violation(error):
                raise busy_conflict(resource, start, end) from None
            raise
    return held
