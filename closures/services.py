"""Writes of closures. Each takes the tenant's closure lock exclusively (``closures.selectors``
says why), so the appointments it reports are every open one the closure overlaps."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import transaction

from closures.affected import affected_by
from closures.models import Closure
from closures.selectors import closure_lock
from core.audit import security_event
from resources.timespans import require_aware, require_order
from users.models import User


def _audit(event: str, *, actor: User | None, closure: Closure, affected: Sequence[Any]) -> None:
    security_event(
        event,
        actor=actor,
        subject=closure,
        title=closure.title,
        starts_at=closure.starts_at.isoformat(),
        ends_at=closure.ends_at.isoformat(),
        affected_appointments=[str(a.public_id) for a in affected],
    )


@transaction.atomic
def closure_create(
    *, actor: User, title: str, starts_at: datetime, ends_at: datetime
) -> tuple[Closure, Sequence[Any]]:
    """Close the whole business from ``starts_at`` to ``ends_at``. Returns the closure and the
    open appointments inside it, which stay as they are (the business decides what to do with
    them; nothing is cancelled behind its back)."""
    require_aware(starts_at=starts_at, ends_at=ends_at)
    require_order(starts_at, ends_at)
    closure_lock(exclusive=True)
    closure = Closure.objects.create(
        title=title, starts_at=starts_at, ends_at=ends_at, created_by=actor
    )
    affected = affected_by(closure)
    _audit("closure_created", actor=actor, closure=closure, affected=affected)
    return closure, affected


@transaction.atomic
def closure_update(
    *, closure: Closure, actor: User | None, **changes: Any
) -> tuple[Closure, Sequence[Any]]:
    """Change a closure's title or times; returns it with the open appointments now inside."""
    closure_lock(exclusive=True)
    closure = Closure.objects.select_for_update().get(pk=closure.pk)
    for field, value in changes.items():
        setattr(closure, field, value)
    require_aware(starts_at=closure.starts_at, ends_at=closure.ends_at)
    require_order(closure.starts_at, closure.ends_at)
    closure.save()
    affected = affected_by(closure)
    _audit("closure_updated", actor=actor, closure=closure, affected=affected)
    return closure, affected


@transaction.atomic
def closure_delete(*, closure: Closure, actor: User | None) -> None:
    _audit("closure_deleted", actor=actor, closure=closure, affected=())
    closure.delete()
