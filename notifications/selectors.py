"""Reads of the outbox for platform operators, scoped as the tenant API scopes the delivery log
(``plugin_tenants_for``, which the plugins' own operator reads share)."""

from __future__ import annotations

from django.db.models import QuerySet

from access.selectors import tenant_list_reached_by
from notifications.models import Delivery, DueJob, OutboxEvent
from tenancy.models import Tenant
from users.models import User
from users.roles import Capability


def plugin_tenants_for(*, viewer: User) -> QuerySet[Tenant]:
    """The tenants whose plugins, deliveries and scheduled plugin work a platform operator may
    see: those on whose host it may read the installed plugins (``view_plugins``), as the API
    decides (PLATFORM_SALES: demo tenants; PLATFORM_SUPPORT, SUPERUSER, PLATFORM_MANAGER: all)."""
    return tenant_list_reached_by(viewer=viewer, capability=Capability.VIEW_PLUGINS)


def deliveries_for(*, viewer: User) -> QuerySet[Delivery]:
    return Delivery.objects.filter(tenant__in=plugin_tenants_for(viewer=viewer))


def outbox_events_for(*, viewer: User) -> QuerySet[OutboxEvent]:
    return OutboxEvent.objects.filter(tenant__in=plugin_tenants_for(viewer=viewer))


def due_jobs_for(*, viewer: User) -> QuerySet[DueJob]:
    return DueJob.objects.filter(tenant__in=plugin_tenants_for(viewer=viewer))
