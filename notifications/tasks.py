"""Celery tasks of the outbox. Each is safe to run twice or concurrently: the rows they work on
are claimed with ``SKIP LOCKED`` and written with conditional updates.

They are platform tasks: their rows (events, deliveries, due jobs) are public-schema rows of
every tenant, so they run in the public schema whoever sends them. A task sent from a business's
request (an event's commit hook) would otherwise run in that business's schema
(tenant-schemas-celery puts the sender's schema in the message); ``enqueue`` names the public
schema instead, and the code enters each row's own tenant where it reads the tenant's tables
(``event_dispatch``, ``webhooks_send``): one switch, chosen by the row, never by the sender.
Beat sends ``sweep`` from the public schema anyway.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from notifications.delivery import next_pending_at
from notifications.outbox import due_jobs_fire, event_dispatch, events_due
from notifications.sending import deliveries_send

# A sender waiting for retries asks to run again at most this far ahead; later ones are the
# sweep's.
RESCHEDULE_HORIZON_SECONDS = 300
EVENT_BATCH = 500
BROKER_TIMEOUT_SECONDS = 2
SWEEP_EVENT_BATCHES = 20
# The message header tenant-schemas-celery reads the schema a task runs in from.
SCHEMA_HEADER = "_schema_name"


def enqueue(task: Any, *args: Any, countdown: float | None = None) -> None:
    """Send a task to the outbox's queue, to run in the public schema, failing at once when the
    broker is down (the caller is a request or a commit hook that must not hang; the sweep catches
    up). Without a queue (``NOTIFICATIONS_QUEUE`` empty) nothing is sent and the sweep alone does
    the work."""
    if not settings.NOTIFICATIONS_QUEUE:
        return
    with task.app.pool.acquire(block=True, timeout=BROKER_TIMEOUT_SECONDS) as connection:
        # One quick try: kombu's own default keeps reconnecting for seconds, inside a request.
        connection.ensure_connection(
            max_retries=1, interval_start=0, interval_step=0, timeout=BROKER_TIMEOUT_SECONDS
        )
        task.apply_async(
            args=args, queue=settings.NOTIFICATIONS_QUEUE, countdown=countdown, retry=False,
            connection=connection, headers={SCHEMA_HEADER: get_public_schema_name()},
        )  # fmt: skip


def enqueue_event_dispatch(event_id: int) -> None:
    """``notifications.events.register_dispatcher``: a committed event goes to a worker."""
    enqueue(dispatch_event, event_id)


@shared_task(name="notifications.tasks.dispatch_event", ignore_result=True)
def dispatch_event(event_id: int) -> int:
    created = event_dispatch(event_id)
    if created:
        send_deliveries()
    return created


@shared_task(name="notifications.tasks.send_deliveries", ignore_result=True)
def send_deliveries() -> int:
    attempted = deliveries_send()
    _send_again_when_due()
    return attempted


def _send_again_when_due() -> None:
    due = next_pending_at()
    if due is None:
        return
    wait = (due - timezone.now()).total_seconds()
    if wait <= RESCHEDULE_HORIZON_SECONDS:
        enqueue(send_deliveries, countdown=max(wait, 0.05))


@shared_task(name="notifications.tasks.sweep", ignore_result=True)
def sweep() -> dict[str, int]:
    """The periodic catch-up (celery beat): due jobs become events, undispatched events are
    dispatched, due deliveries are sent. Whatever a dead worker or broker left behind is found
    here."""
    fired = 0
    while batch := due_jobs_fire():
        fired += len(batch)
    dispatched = 0
    for _ in range(SWEEP_EVENT_BATCHES):
        batch = events_due()
        for event_id in batch:
            event_dispatch(event_id)
        dispatched += len(batch)
        if len(batch) < EVENT_BATCH:
            break
    sent = deliveries_send()
    return {"jobs_fired": fired, "events_dispatched": dispatched, "deliveries_attempted": sent}
