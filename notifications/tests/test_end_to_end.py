"""The outbox with real parts: a Celery worker on Redis (a unique queue per test: the Redis
server is shared), an aiosmtpd SMTP server and an HTTP receiver checking signatures with the
``standardwebhooks`` package, all on 127.0.0.1. The faults: SMTP down then up, a receiver
failing then recovering, the broker down during a booking, a worker killed mid-batch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings as django_settings
from django_tenants.utils import tenant_context
from psycopg import sql

from appointments.services import appointment_transition
from appointments.tests.world import World, build_world
from config.celery import app
from conftest import connection
from core.tests.test_celery_worker import redis_answers
from notifications.models import Delivery, OutboxEvent
from notifications.outbox import due_jobs_fire
from notifications.tasks import dispatch_event, enqueue, send_deliveries, sweep
from notifications.tests.receivers import (
    free_port,
    point_email_at,
    smtp_sink,
    webhook_receiver,
)
from plugins.data.services import webhook_endpoint_create
from plugins.tests.helpers import install
from tenancy.services import tenant_provision

pytestmark = [
    pytest.mark.skipif(
        not redis_answers(), reason="no Redis on 127.0.0.1:6379 (make test starts one)"
    ),
    pytest.mark.django_db(transaction=True),
]
REDIS_URL = "redis://127.0.0.1:6379/0"


def wait_until(condition: Callable[[], bool], *, timeout: float = 20, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def use_broker(url: str) -> None:
    """Point the Celery app at ``url``, dropping the connections it pooled for the old one."""
    app.conf.broker_url = url
    app._after_fork()


@pytest.fixture
def queue(settings) -> str:
    name = f"test-outbox-{uuid.uuid4().hex}"
    settings.NOTIFICATIONS_QUEUE = name
    settings.NOTIFICATIONS_RETRY_BASE_SECONDS = 0.3
    settings.NOTIFICATIONS_RETRY_MAX_SECONDS = 1.0
    use_broker(REDIS_URL)
    return name


@contextmanager
def worker(queue: str) -> Iterator[None]:
    with start_worker(
        app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=30
    ):
        yield


@pytest.fixture
def world(queue) -> Iterator[World]:
    """A tenant of this test's own (committed rows need a schema no other test uses)."""
    schema = f"gm_e2e_{uuid.uuid4().hex[:8]}"
    tenant = tenant_provision(
        name="E2E Salon",
        schema_name=schema,
        domain=f"{schema.replace('_', '-')}.localhost",
        subscription_tier="BUSINESS",
    )
    try:
        with tenant_context(tenant):
            yield build_world(tenant)
    finally:
        # The flush after this test empties the public tables; the schema is this test's to drop.
        connection.set_schema_to_public()
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
            )


def test_smtp_down_then_up_every_reminder_arrives_once(world, queue, settings):
    port = free_port()
    point_email_at(settings, port)
    install(world.tenant, "appointment-reminders")
    start = world.appointment.starts_at
    with worker(queue), smtp_sink(port, started=False) as sink:
        # Both reminders fall due (as the sweep would see them a day and two hours before).
        for event_id in due_jobs_fire(now=start - timedelta(hours=1)):
            enqueue(dispatch_event, event_id)
        reminders = Delivery.objects.filter(tenant=world.tenant, plugin="appointment-reminders")
        wait_until(lambda: reminders.filter(attempts__gte=1).count() == 2, what="a failed attempt")
        assert not reminders.filter(status="SENT").exists()
        assert "Connection refused" in reminders.first().last_error
        sink.start()  # the mail server is back
        wait_until(lambda: reminders.filter(status="SENT").count() == 2, what="the retries")
    ids = sink.message_ids()
    assert len(sink.inbox) == 2 and len(set(ids)) == 2
    assert all(m["To"] == world.customer.email for m in sink.inbox)
    assert all(d.attempts >= 2 for d in reminders)


def test_webhook_receiver_500_then_200_is_delivered_once_after_retries(world, queue, settings):
    settings.WEBHOOK_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1/32"]
    install(world.tenant, "webhooks")
    with webhook_receiver(statuses=[500, 500, 200]) as receiver, worker(queue):
        with tenant_context(world.tenant):
            endpoint = webhook_endpoint_create(
                tenant=world.tenant, actor=world.owner, url=receiver.url
            )
        receiver.secret = endpoint.secret
        with tenant_context(world.tenant):  # committed: on_commit hands it to the worker
            appointment_transition(
                tenant=world.tenant, actor=world.owner, appointment=world.other_appointment,
                to="CONFIRMED",
            )  # fmt: skip
        delivery = Delivery.objects.filter(tenant=world.tenant, plugin="webhooks")
        wait_until(lambda: delivery.filter(status="SENT").exists(), what="the webhook")
    assert [r["status"] for r in receiver.received] == [500, 500, 200]
    assert all(r["verified"] for r in receiver.received)
    assert len({r["id"] for r in receiver.received}) == 1  # one message, retried
    (accepted,) = receiver.accepted()
    assert accepted["payload"]["type"] == "appointment.confirmed"
    sent = delivery.get()
    assert sent.attempts == 3 and sent.response_status == 200 and sent.latency_ms is not None


def test_broker_down_the_change_still_commits_quickly_and_the_sweep_delivers(
    world, queue, settings
):
    settings.WEBHOOK_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1/32"]
    install(world.tenant, "webhooks")
    with webhook_receiver() as receiver:
        with tenant_context(world.tenant):
            receiver.secret = webhook_endpoint_create(
                tenant=world.tenant, actor=world.owner, url=receiver.url
            ).secret
        use_broker(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
        started = time.monotonic()
        try:
            with tenant_context(world.tenant):
                moved = appointment_transition(
                    tenant=world.tenant, actor=world.owner, appointment=world.other_appointment,
                    to="CONFIRMED",
                )  # fmt: skip
        finally:
            use_broker(REDIS_URL)
        assert moved.status == "CONFIRMED"
        # One quick try at the broker, not kombu's seconds of reconnecting inside a request.
        assert time.monotonic() - started < 2
        event = OutboxEvent.objects.get(
            kind="appointment.confirmed", payload__id=str(world.other_appointment.public_id)
        )
        assert event.dispatched_at is None  # kept, not lost
        with worker(queue):
            enqueue(sweep)  # what celery beat sends every NOTIFICATIONS_SWEEP_SECONDS
            wait_until(lambda: len(receiver.accepted()) == 1, what="the sweep")
    assert receiver.received[0]["verified"]


def _worker_process(queue: str, smtp_port: int, log: Path) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE", "DATABASE_URL")},
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "POSTGRES_HOST": str(db["HOST"]), "POSTGRES_PORT": str(db["PORT"] or ""),
        "POSTGRES_DB": db["NAME"], "POSTGRES_USER": db["USER"],
        "POSTGRES_PASSWORD": db["PASSWORD"] or "",
        "CELERY_BROKER_URL": REDIS_URL, "NOTIFICATIONS_QUEUE": queue,
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "NOTIFICATIONS_LEASE_SECONDS": "2", "NOTIFICATIONS_BATCH_SIZE": "40",
    }  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "solo", "-Q", queue,
         "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "info"],
        cwd=Path(django_settings.BASE_DIR), env=env, stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )  # fmt: skip


MESSAGES = 240


def test_a_worker_killed_mid_batch_loses_nothing_and_doubles_nothing(
    world, queue, settings, tmp_path
):
    settings.NOTIFICATIONS_LEASE_SECONDS = 2
    port = free_port()
    point_email_at(settings, port)
    install(world.tenant, "appointment-reminders")  # a plugin's deliveries go out while it runs
    event = OutboxEvent.objects.create(
        tenant=world.tenant, kind="job.reminder", dispatched_at=world.appointment.created_at
    )
    deliveries = Delivery.objects.bulk_create(
        Delivery(
            event=event, tenant=world.tenant, plugin="appointment-reminders", channel="EMAIL",
            recipient=f"customer{i}@example.com",
            message={"subject": f"Reminder {i}", "text": "See you", "html": "<p>See you</p>"},
        )
        for i in range(MESSAGES)
    )  # fmt: skip
    expected = {f"<{d.public_id}@smoothschedule>" for d in deliveries}
    with smtp_sink(port, slow_seconds=0.01) as sink:
        log = tmp_path / "worker.log"
        process = _worker_process(queue, port, log)

        def sending() -> bool:
            # A worker that died at start (settings, database, broker) fails here with its log,
            # not after the timeout with nothing to read.
            assert process.poll() is None, log.read_text(errors="replace")[-4000:]
            return len(sink.inbox) >= 40

        try:
            enqueue(send_deliveries)
            try:
                wait_until(sending, timeout=120, what="the first messages")
            except AssertionError as timeout:
                tail = log.read_text(errors="replace")[-4000:]
                raise AssertionError(f"{timeout}\n{tail}") from None
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
        finally:
            if process.poll() is None:
                process.kill()
        at_kill = len(sink.inbox)
        assert at_kill < MESSAGES, "the worker finished before it was killed"
        pending = Delivery.objects.filter(event=event).exclude(status="SENT")
        assert pending.exists()
        with worker(queue):
            time.sleep(settings.NOTIFICATIONS_LEASE_SECONDS)  # the dead worker's claim runs out
            enqueue(sweep)
            wait_until(lambda: not pending.exists(), timeout=60, what="the rest")
    ids = sink.message_ids()
    assert set(ids) == expected  # nothing lost
    # Nothing doubled: at most the one message in flight at the kill went out twice, with the
    # same Message-ID (the SMTP server had accepted it, the worker had not yet recorded it).
    assert len(ids) - len(set(ids)) <= 1, (len(ids), at_kill)
