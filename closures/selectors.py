"""Reads of closures, and the lock that makes "no booking inside a closure" hold under
concurrency.

Why a lock and not a constraint: the allocation table's exclusion constraint settles conflicts
between resources' holds, but a closure is not a hold of one resource. Writing a closure
allocation for every resource would refuse any closure over an existing appointment (which must
stay and be reported, not refused or cancelled) and would miss resources added later. So a
booking checks the closures inside its transaction while holding this tenant's closure lock in
*shared* mode (bookings never wait for each other), and writing a closure takes it *exclusively*:
a closure waits for the bookings in flight to commit (so its report of affected appointments
sees them all) and a booking that starts meanwhile waits for the closure to commit (so it sees
the closure and is refused). A transaction-scoped advisory lock, so it also holds behind a
transaction-pooling PgBouncer; keyed by the schema, so tenants never wait for one another.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from django.db import connection
from django.db.models import QuerySet

from closures.models import Closure
from core.db.base import DatabaseWrapper
from core.exceptions import DomainError

# Two-key advisory locks live apart from one-key ones; this class names the closure lock.
_CLOSURE_LOCK_CLASS = 7_340_213


def closure_lock(*, exclusive: bool) -> None:
    """Take this tenant's closure lock until the caller's transaction ends."""
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    schema = cast(DatabaseWrapper, connection).schema_name  # the backend is core.db's
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s, hashtext(%s))", [_CLOSURE_LOCK_CLASS, schema])


def closure_list() -> QuerySet[Closure]:
    return Closure.objects.all()


def closures_between(lo: datetime, hi: datetime) -> list[Closure]:
    """Closures overlapping ``[lo, hi)``, in order (one query)."""
    return list(Closure.objects.filter(starts_at__lt=hi, ends_at__gt=lo).order_by("starts_at"))


def check_not_closed(*, starts_at: datetime, ends_at: datetime) -> None:
    """Refuse an appointment ``[starts_at, ends_at)`` that overlaps a closure (400
    ``tenant_closed``). Takes the closure lock in shared mode for the caller's transaction, which
    must be the one that writes the appointment."""
    closure_lock(exclusive=False)
    closed = closures_between(starts_at, ends_at)
    if closed:
        first = closed[0]
        raise DomainError(
            f"The business is closed from {first.starts_at.isoformat()} to "
            f"{first.ends_at.isoformat()} ({first.title}).",
            code="tenant_closed",
            fields={"starts_at": [f"Closed then: {first.title}."]},
        )
