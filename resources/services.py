"""Writes of resources: creation under the tier limit, opening hours, date overrides, the
calendar-feed secret."""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from rest_framework.request import Request

from core.audit import security_event
from core.exceptions import Conflict, DomainError
from core.uploads import ValidatedImage, image_field_replace
from resources.models import DateOverride, Resource, ResourceType, WorkingHours
from tenancy.models import Tenant
from tenancy.tiers import tier_limit_check
from users.models import User
from users.roles import STAFF_ROLES


def _check_user(*, tenant: Tenant, resource_type: str, user: User | None) -> None:
    if user is None:
        return
    if resource_type != ResourceType.STAFF:
        raise DomainError(
            "Only STAFF resources can be linked to a user.",
            fields={"user": ["Only for STAFF resources."]},
        )
    if user.tenant_id != tenant.pk or user.role not in STAFF_ROLES:
        raise DomainError(
            "The linked user must be a staff account of this business.",
            fields={"user": ["Not a staff account of this business."]},
        )


def _replace_hours(resource: Resource, hours: Iterable[dict[str, Any]]) -> None:
    WorkingHours.objects.filter(resource=resource).delete()
    WorkingHours.objects.bulk_create(WorkingHours(resource=resource, **h) for h in hours)


def _save(resource: Resource) -> None:
    try:
        with transaction.atomic():
            resource.save()
    except IntegrityError as error:
        raise Conflict(
            "That user is already linked to another resource.",
            fields={"user": ["Already linked to a resource."]},
        ) from error


@transaction.atomic
def resource_create(
    *,
    tenant: Tenant,
    actor: User | None,
    name: str,
    type: str,
    timezone: str | None = None,
    user: User | None = None,
    is_active: bool = True,
    working_hours: Iterable[dict[str, Any]] = (),
    request: HttpRequest | Request | None = None,
) -> Resource:
    """Add a resource, counted against the tier's limit under a lock on the tenant row so two
    concurrent creations cannot both squeeze under it."""
    locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
    tier_limit_check(tenant=locked, kind="resources", current=Resource.objects.count())
    _check_user(tenant=tenant, resource_type=type, user=user)
    resource = Resource(
        name=name, type=type, timezone=timezone or tenant.timezone, user=user, is_active=is_active
    )
    _save(resource)
    _replace_hours(resource, working_hours)
    security_event(
        "resource_created",
        request=request,
        actor=actor,
        subject=resource,
        resource_name=resource.name,
    )
    return resource


@transaction.atomic
def resource_update(
    *,
    tenant: Tenant,
    resource: Resource,
    actor: User | None,
    working_hours: Iterable[dict[str, Any]] | None = None,
    **changes: Any,
) -> Resource:
    for field, value in changes.items():
        setattr(resource, field, value)
    _check_user(tenant=tenant, resource_type=resource.type, user=resource.user)
    _save(resource)
    if working_hours is not None:
        _replace_hours(resource, working_hours)
    fields = sorted([*changes, *(["working_hours"] if working_hours is not None else [])])
    security_event(
        "resource_updated", actor=actor, target=resource.user, subject=resource, fields=fields
    )
    return resource


@transaction.atomic
def resource_delete(*, resource: Resource, actor: User | None) -> None:
    # Visitors' slot holds (appointments.services.slot_holds) are no one's booking: they go.
    resource.allocations.filter(hold__isnull=False).delete()
    if resource.allocations.exists():
        raise Conflict(
            f"'{resource.name}' holds appointments or blockers; deactivate it instead.",
            code="resource_in_use",
        )
    security_event("resource_deleted", actor=actor, subject=resource, resource_name=resource.name)
    resource.delete()


@transaction.atomic
def ical_token_rotate(
    *, resource: Resource, actor: User | None, request: HttpRequest | Request | None = None
) -> Resource:
    """A new secret feed URL; the old one stops working at once."""
    resource.ical_token = secrets.token_urlsafe(32)
    resource.save(update_fields=["ical_token", "updated_at"])
    security_event("ical_feed_rotated", request=request, actor=actor, subject=resource)
    return resource


@transaction.atomic
def ical_token_revoke(
    *, resource: Resource, actor: User | None, request: HttpRequest | Request | None = None
) -> Resource:
    resource.ical_token = None
    resource.save(update_fields=["ical_token", "updated_at"])
    security_event("ical_feed_revoked", request=request, actor=actor, subject=resource)
    return resource


def resource_photo_set(
    *,
    resource: Resource,
    image: ValidatedImage | None,
    actor: User | None,
    request: HttpRequest | Request | None = None,
) -> Resource:
    """Store ``image`` (from ``core.uploads.validated_image``) as the resource's photo; None
    removes it. The old file goes only once the change is committed."""

    def audit(previous: str, stored: str) -> None:
        security_event(
            "resource_photo_changed" if stored else "resource_photo_removed",
            request=request,
            actor=actor,
            subject=resource,
            previous_file=previous,
            file=stored,
        )

    if image is not None or resource.photo:
        image_field_replace(instance=resource, field="photo", image=image, audit=audit)
    return resource


def _audit_override(
    event: str, *, actor: User | None, override: DateOverride, **details: Any
) -> None:
    security_event(
        event,
        actor=actor,
        subject=override,
        resource=str(override.resource.public_id),
        date=override.date.isoformat(),
        **details,
    )


@transaction.atomic
def date_override_create(
    *,
    actor: User | None,
    resource: Resource,
    date: datetime.date,
    is_closed: bool = False,
    start_time: datetime.time | None = None,
    end_time: datetime.time | None = None,
    note: str = "",
) -> DateOverride:
    """Replace ``resource``'s weekly hours on ``date``: closed, or open in these hours."""
    override = DateOverride.objects.create(
        resource=resource, date=date, is_closed=is_closed, start_time=start_time,
        end_time=end_time, note=note,
    )  # fmt: skip
    _audit_override("date_override_created", actor=actor, override=override)
    return override


@transaction.atomic
def date_override_update(
    *, actor: User | None, override: DateOverride, **changes: Any
) -> DateOverride:
    for field, value in changes.items():
        setattr(override, field, value)
    override.save()
    _audit_override("date_override_updated", actor=actor, override=override, fields=sorted(changes))
    return override


@transaction.atomic
def date_override_delete(*, actor: User | None, override: DateOverride) -> None:
    _audit_override("date_override_deleted", actor=actor, override=override)
    override.delete()
