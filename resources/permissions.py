"""Everyone in scope reads resources (customers pick from them); ``manage_resources`` writes.
Date overrides are schedule data: ``view_schedule`` reads them."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework.permissions import BasePermission

from access.permissions import IsInScopeOfThisHost, capability_permission
from access.scoping import get_visible, sees_all_rows
from resources.models import DateOverride
from tenancy.models import Tenant
from users.models import User
from users.roles import Capability

RESOURCE_PERMISSIONS: list[type[BasePermission]] = [
    IsInScopeOfThisHost,
    capability_permission(Capability.MANAGE_RESOURCES, write_only=True),
]
RESOURCE_PHOTO_PERMISSIONS: list[type[BasePermission]] = [
    IsInScopeOfThisHost,
    capability_permission(Capability.MANAGE_RESOURCES),
]
# The calendar-feed secret is a credential: its own capability, which a masquerade does not lend.
RESOURCE_FEED_PERMISSIONS: list[type[BasePermission]] = [
    IsInScopeOfThisHost,
    capability_permission(Capability.MANAGE_CALENDAR_FEEDS),
]
OVERRIDE_PERMISSIONS: list[type[BasePermission]] = [
    IsInScopeOfThisHost,
    capability_permission(Capability.VIEW_SCHEDULE),
    capability_permission(Capability.MANAGE_RESOURCES, write_only=True),
]


def visible_date_overrides(
    queryset: QuerySet[DateOverride], *, user: User, tenant: Tenant
) -> QuerySet[DateOverride]:
    """Date overrides are the business's schedule: those who see it see them all; no one else
    (a customer included) sees any."""
    if sees_all_rows(user=user, tenant=tenant, sees_all=Capability.VIEW_SCHEDULE):
        return queryset
    return queryset.none()


def date_override_get_for(
    queryset: QuerySet[DateOverride], *, user: User, tenant: Tenant, public_id: Any
) -> DateOverride:
    """The access-checked fetcher: a date override the user may see, else 404."""
    visible = visible_date_overrides(queryset, user=user, tenant=tenant)
    return get_visible(visible, public_id=public_id, noun="date override")
