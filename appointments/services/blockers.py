"""Time off: a blocker holds its resource like an appointment does."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from appointments import permissions
from appointments.models import Allocation, Blocker
from appointments.services.holds import hold_resources
from core.audit import security_event
from resources.models import Resource
from resources.timespans import require_aware, require_order
from tenancy.models import Tenant
from users.models import User


@transaction.atomic
def blocker_create(
    *,
    tenant: Tenant,
    actor: User,
    resource: Resource,
    starts_at: datetime,
    ends_at: datetime,
    title: str = "",
) -> Blocker:
    """Take a resource out of service; 409 when it is already held then."""
    require_aware(starts_at=starts_at, ends_at=ends_at)
    require_order(starts_at, ends_at)
    permissions.check_may_hold(user=actor, tenant=tenant, resources=[resource])
    blocker = Blocker.objects.create(
        resource=resource, starts_at=starts_at, ends_at=ends_at, title=title, created_by=actor
    )
    hold_resources(resources=[resource], start=starts_at, end=ends_at, blocker=blocker)
    _audit("blocker_created", actor=actor, blocker=blocker)
    return blocker


def _audit(event: str, *, actor: User, blocker: Blocker, **details: Any) -> None:
    security_event(
        event,
        actor=actor,
        subject=blocker,
        resource=str(blocker.resource.public_id),
        starts_at=blocker.starts_at.isoformat(),
        ends_at=blocker.ends_at.isoformat(),
        **details,
    )


@transaction.atomic
def blocker_update(*, tenant: Tenant, actor: User, blocker: Blocker, **changes: Any) -> Blocker:
    blocker = Blocker.objects.select_for_update().select_related("resource").get(pk=blocker.pk)
    permissions.check_may_hold(user=actor, tenant=tenant, resources=[blocker.resource])
    for field, value in changes.items():
        setattr(blocker, field, value)
    require_aware(starts_at=blocker.starts_at, ends_at=blocker.ends_at)
    require_order(blocker.starts_at, blocker.ends_at)
    permissions.check_may_hold(user=actor, tenant=tenant, resources=[blocker.resource])
    blocker.save()
    Allocation.objects.filter(blocker=blocker).delete()
    hold_resources(
        resources=[blocker.resource], start=blocker.starts_at, end=blocker.ends_at, blocker=blocker
    )
    _audit("blocker_updated", actor=actor, blocker=blocker, fields=sorted(changes))
    return blocker


@transaction.atomic
def blocker_delete(*, tenant: Tenant, actor: User, blocker: Blocker) -> None:
    permissions.check_may_hold(user=actor, tenant=tenant, resources=[blocker.resource])
    _audit("blocker_deleted", actor=actor, blocker=blocker)
    blocker.delete()
