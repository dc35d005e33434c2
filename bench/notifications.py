"""Outbox benchmarks.

- Delivery: 10,000 reminder e-mails through the outbox's sender (claim a batch with SKIP
  LOCKED, send each over one SMTP connection, record each outcome in its own UPDATE) to a local
  SMTP sink, against sending the same 10,000 prebuilt messages the way ``send_mass_mail`` does
  (one connection, ``send_messages``, nothing recorded), in the same run.
- Due-job scan: finding and firing what is due among the jobs of 1,000 tenants against 10
  tenants (20 future jobs each, the same 10 due in both). Tenant rows are inserted without
  schemas: the scan reads only the public index, never a tenant's schema.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import psycopg
from django.core.mail import get_connection
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from appointments.models import Appointment
from bench.measure import connection, median_ms, tenant_drop, timed
from customers.models import Customer
from notifications.email import email_build
from notifications.models import Delivery, DueJob, OutboxEvent
from notifications.outbox import due_jobs_fire
from notifications.sending import deliveries_send
from plugins.builtin.reminders import AppointmentReminders
from plugins.catalogue import plugins_sync
from plugins.models import PluginTemplate
from plugins.services import plugin_install
from tenancy.models import Tenant
from tenancy.services import tenant_provision

MESSAGES = 10_000
RENDERED = 50  # distinct reminders rendered by the plugin; the 10,000 reuse their content
SCHEMA = "bench_notify"
SCAN_PREFIX = "bench_scan_"
FUTURE_JOBS_PER_TENANT = 20
DUE_JOBS = 10


class _Rollback(Exception):
    pass


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_sink(port: int) -> subprocess.Popen:
    # Fixed argv: our own interpreter running aiosmtpd's discard-all handler.
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
         "-c", "aiosmtpd.handlers.Sink"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the SMTP sink did not start")


def _reminder_messages(tenant: Tenant) -> list[dict[str, Any]]:
    """Real reminders (template, .ics, unsubscribe link) rendered by the plugin's handler."""
    connection.set_tenant(tenant)
    customers = Customer.objects.bulk_create(
        Customer(name=f"Customer {i}", email=f"customer{i}@bench.invalid") for i in range(RENDERED)
    )
    from catalog.models import Service

    service = Service.objects.create(name="Cut", duration_minutes=30, price=Decimal("30"))
    start = timezone.now() + timedelta(days=2)
    appointments = Appointment.objects.bulk_create(
        Appointment(customer=c, service=service, starts_at=start, price=Decimal("30"),
                    ends_at=start + timedelta(hours=1), status="CONFIRMED")
        for c in customers
    )  # fmt: skip
    plugin = AppointmentReminders()
    messages = []
    for appointment in appointments:
        event = OutboxEvent(
            tenant=tenant, kind="job.reminder",
            payload={"appointment": str(appointment.public_id), "offset_minutes": 1440,
                     "starts_at": appointment.starts_at.isoformat()},
        )  # fmt: skip
        (out,) = plugin.on_event(
            tenant=tenant, event=event, settings={"offsets_minutes": [1440], "attach_ics": True}
        )
        messages.append(out.message)
    connection.set_schema_to_public()
    return messages


def bench_delivery(repeats: int) -> dict[str, Any]:
    tenant_drop(SCHEMA)
    plugins_sync()
    tenant = tenant_provision(name="Bench Notify", schema_name=SCHEMA, domain="bench-notify.bench")
    # Installed: each send checks that its plugin still runs for the tenant (else SKIPPED).
    reminders = PluginTemplate.objects.get(slug="appointment-reminders")
    plugin_install(
        tenant=tenant, plugin=reminders, actor=None,
        accepted_permissions=[p["code"] for p in reminders.required_permissions],
    )  # fmt: skip
    port = _free_port()
    sink = _start_sink(port)
    try:
        rendered = _reminder_messages(tenant)
        event = OutboxEvent.objects.create(
            tenant=tenant, kind="job.reminder", dispatched_at=timezone.now()
        )
        Delivery.objects.bulk_create(
            (
                Delivery(event=event, tenant=tenant, plugin="appointment-reminders",
                         channel="EMAIL", recipient=f"customer{i}@bench.invalid",
                         message=rendered[i % RENDERED])
                for i in range(MESSAGES)
            ),
            batch_size=2000,
        )  # fmt: skip
        deliveries = list(Delivery.objects.filter(event=event).select_related("tenant"))
        prebuilt = [email_build(d) for d in deliveries]
        smtp = {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": port, "EMAIL_USE_TLS": False,
            "EMAIL_USE_SSL": False,
        }  # fmt: skip
        outbox, mass = [], []
        with override_settings(**smtp):
            for _ in range(repeats):
                Delivery.objects.filter(event=event).update(
                    status="PENDING", attempts=0, sent_at=None, claimed_until=None,
                    next_attempt_at=timezone.now() - timedelta(seconds=1),
                )  # fmt: skip
                outbox.append(timed(deliveries_send))
                sent = Delivery.objects.filter(event=event, status="SENT").count()
                assert sent == MESSAGES, f"only {sent} of {MESSAGES} delivered"
                mass.append(timed(lambda: get_connection().send_messages(prebuilt)))
    finally:
        sink.terminate()
        sink.wait(timeout=10)
        tenant_drop(SCHEMA)
    outbox_ms, mass_ms = median_ms(outbox), median_ms(mass)
    return {
        "name": "outbox_reminder_delivery",
        "what": f"{MESSAGES:,} reminder e-mails (text, HTML, .ics) delivered by the outbox to a "
        "local SMTP sink: claimed in batches, each outcome recorded",
        "repeats": repeats,
        "messages": MESSAGES,
        "median_ms": outbox_ms,
        "messages_per_second": round(MESSAGES / (outbox_ms / 1000)),
        "baseline": "send_mass_mail's way (one connection, send_messages) of the same prebuilt "
        "messages, nothing recorded",
        "baseline_median_ms": mass_ms,
        "ratio_to_baseline": round(outbox_ms / mass_ms, 3),
        "throughput_vs_baseline": round(mass_ms / outbox_ms, 3),
        "goal": "throughput_vs_baseline >= 0.5",
    }


def _scan_world(tenants: int, now: Any) -> None:
    Tenant.objects.filter(schema_name__startswith=SCAN_PREFIX).delete()
    rows = Tenant.objects.bulk_create(
        Tenant(name=f"Scan {i}", schema_name=f"{SCAN_PREFIX}{tenants}_{i}") for i in range(tenants)
    )
    jobs = [
        DueJob(tenant=t, plugin="appointment-reminders", kind="reminder", key=f"future-{j}",
               due_at=now + timedelta(hours=1 + j))
        for t in rows for j in range(FUTURE_JOBS_PER_TENANT)
    ]  # fmt: skip
    jobs += [
        DueJob(tenant=rows[i % tenants], plugin="appointment-reminders", kind="reminder",
               key=f"due-{i}", due_at=now - timedelta(minutes=1))
        for i in range(DUE_JOBS)
    ]  # fmt: skip
    DueJob.objects.bulk_create(jobs, batch_size=5000)
    # Both sizes start from a clean, analysed table. VACUUM refuses to share a message with the
    # search-path pin core.db's cursors send, so it goes through a plain psycopg cursor (autocommit
    # here), the table named with its schema.
    connection.ensure_connection()
    psycopg.Cursor(connection.connection).execute("VACUUM ANALYZE public.notifications_duejob")


def _scan_once(now: Any) -> None:
    try:
        with transaction.atomic():
            assert len(due_jobs_fire(now=now)) == DUE_JOBS
            raise _Rollback  # keep the same due jobs for the next repeat
    except _Rollback:
        pass


def bench_due_scan(repeats: int) -> dict[str, Any]:
    now = timezone.now()
    samples = {}
    try:
        for tenants in (10, 1000):
            _scan_world(tenants, now)
            _scan_once(now)  # warm up
            samples[tenants] = [timed(lambda: _scan_once(now)) for _ in range(repeats)]
    finally:
        Tenant.objects.filter(schema_name__startswith=SCAN_PREFIX).delete()
    many, few = median_ms(samples[1000]), median_ms(samples[10])
    return {
        "name": "due_job_scan",
        "what": f"find and fire the {DUE_JOBS} due jobs among those of 1,000 tenants "
        f"({FUTURE_JOBS_PER_TENANT} future jobs each), in one transaction",
        "repeats": repeats,
        "median_ms": many,
        "baseline": "the same with 10 tenants",
        "baseline_median_ms": few,
        "ratio_to_baseline": round(many / few, 3),
        "goal": "ratio_to_baseline <= 1.2",
    }


def run(repeats: int) -> list[dict[str, Any]]:
    return [bench_delivery(min(repeats, 3)), bench_due_scan(repeats)]
