"""Turning events into deliveries, and due jobs into events.

``event_dispatch`` hands one event to every enabled plugin of its tenant that wants it and writes
the deliveries they ask for, all in one transaction that also marks the event dispatched: a
worker that dies half way leaves the event undispatched (and no deliveries), so the next attempt
starts clean. ``due_jobs_fire`` turns what is due in the public index of jobs into events.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from notifications.handlers import Handler, installed_handlers, platform_handlers
from notifications.models import Delivery, DueJob, OutboxEvent
from tenancy.models import Tenant

logger = logging.getLogger(__name__)


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: the wait after the ``attempts``-th failed attempt."""
    seconds = settings.NOTIFICATIONS_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.NOTIFICATIONS_RETRY_MAX_SECONDS))


def due_job_schedule(
    *,
    tenant: Tenant,
    plugin: str,
    kind: str,
    key: str,
    due_at: datetime,
    payload: dict[str, Any] | None = None,
) -> DueJob:
    """Schedule (or move) the job ``kind``/``key`` of a tenant."""
    job, _ = DueJob.objects.update_or_create(
        tenant=tenant,
        kind=kind,
        key=key,
        defaults={"plugin": plugin, "due_at": due_at, "payload": payload or {}},
    )
    return job


def due_jobs_cancel(*, tenant: Tenant, kind: str, key_prefix: str = "") -> int:
    """Drop a tenant's jobs of ``kind`` (those whose key starts with ``key_prefix``)."""
    jobs = DueJob.objects.filter(tenant=tenant, kind=kind)
    if key_prefix:
        jobs = jobs.filter(key__startswith=key_prefix)
    deleted, _ = jobs.delete()
    return deleted


def due_jobs_fire(*, now: datetime | None = None, limit: int = 1000) -> list[int]:
    """Turn up to ``limit`` due jobs into events for their plugin, removing the jobs, in one
    transaction. One indexed query finds them, however many tenants have jobs later on."""
    now = now or timezone.now()
    with transaction.atomic():
        jobs = list(
            DueJob.objects.select_for_update(skip_locked=True)
            .filter(due_at__lte=now)
            .order_by("due_at")[:limit]
        )
        if not jobs:
            return []
        events = OutboxEvent.objects.bulk_create(
            OutboxEvent(
                tenant_id=job.tenant_id,
                kind=f"job.{job.kind}",
                plugin=job.plugin,
                payload={**job.payload, "key": job.key, "due_at": job.due_at.isoformat()},
            )
            for job in jobs
        )
        DueJob.objects.filter(pk__in=[job.pk for job in jobs]).delete()
    return [event.pk for event in events]


def _handlers(event: OutboxEvent) -> Iterable[tuple[str, Handler, dict[str, Any]]]:
    if event.tenant.is_suspended:  # a suspended business sends nothing
        return
    if not event.plugin:  # the platform's own e-mails (a guest's booking confirmation)
        for slug, platform_handler in platform_handlers().items():
            if event.kind in platform_handler.events:
                yield slug, platform_handler, {}
    for slug, handler, handler_settings, installed_at in installed_handlers(event.tenant):
        if installed_at > event.occurred_at:
            continue  # a plugin hears what happens once it is installed, not before
        if event.plugin and event.plugin != slug:
            continue
        if handler is not None and event.kind in handler.events:
            yield slug, handler, handler_settings


def event_dispatch(event_id: int, *, now: datetime | None = None) -> int:
    """Hand one event to its plugins; returns how many deliveries it created (0 when another
    worker has it or it was dispatched already)."""
    now = now or timezone.now()
    created = 0
    try:
        with transaction.atomic():
            event = (
                OutboxEvent.objects.select_for_update(skip_locked=True)
                .select_related("tenant")
                .filter(pk=event_id, dispatched_at__isnull=True)
                .first()
            )
            if event is None:
                return 0
            with tenant_context(event.tenant):
                for slug, plugin, plugin_settings in _handlers(event):
                    for out in plugin.on_event(
                        tenant=event.tenant, event=event, settings=plugin_settings
                    ):
                        _, was_new = Delivery.objects.get_or_create(
                            event=event,
                            plugin=slug,
                            recipient=out.recipient,
                            defaults={
                                "tenant": event.tenant,
                                "channel": out.channel,
                                "message": out.message,
                            },
                        )
                        created += was_new
            event.dispatched_at = now
            event.attempts += 1
            event.save(update_fields=["dispatched_at", "attempts"])
    except Exception as error:
        # A handler failed (or the database did): the transaction rolled back; try again later.
        logger.exception("dispatching outbox event %s failed", event_id)
        _event_failed(event_id, error, now)
        return 0
    return created


def _event_failed(event_id: int, error: Exception, now: datetime) -> None:
    event = OutboxEvent.objects.filter(pk=event_id).first()
    if event is None:
        return
    attempts = event.attempts + 1
    OutboxEvent.objects.filter(pk=event_id, dispatched_at__isnull=True).update(
        attempts=attempts,
        next_attempt_at=now + retry_delay(attempts),
        last_error=f"{type(error).__name__}: {error}"[:2000],
    )


def events_due(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Events no worker has dispatched yet whose next attempt is due."""
    now = now or timezone.now()
    return list(
        OutboxEvent.objects.filter(dispatched_at__isnull=True, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
