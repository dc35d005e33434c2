"""Reads of the outbox for platform operators, scoped as the tenant API scopes the delivery log
(``plugins.selectors.plugin_tenants_for``)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from notifications.models import Delivery, DueJob, OutboxEvent
from plugins.selectors import plugin_tenants_for


def deliveries_for(*, viewer: Any) -> QuerySet[Delivery]:
    return Delivery.objects.filter(tenant__in=plugin_tenants_for(viewer=viewer))


def outbox_events_for(*, viewer: Any) -> QuerySet[OutboxEvent]:
    return OutboxEvent.objects.filter(tenant__in=plugin_tenants_for(viewer=viewer))


def due_jobs_for(*, viewer: Any) -> QuerySet[DueJob]:
    return DueJob.objects.filter(tenant__in=plugin_tenants_for(viewer=viewer))
