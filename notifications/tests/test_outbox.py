"""The outbox: every change writes its event in its own transaction (and none when it rolls
back), dispatch is idempotent, retries back off, and finding due work costs what is due."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
import redis
from django.db import transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments.services import appointment_book, appointment_reschedule, appointment_transition
from config.celery import app
from conftest import HOST_A, connection
from core.exceptions import Conflict
from core.tests.test_celery_worker import redis_answers
from notifications.models import DueJob, OutboxEvent
from notifications.outbox import due_job_schedule, due_jobs_fire, retry_delay
from notifications.tasks import dispatch_event, enqueue


def kinds_since(mark: int) -> list[str]:
    return list(
        OutboxEvent.objects.filter(pk__gt=mark).order_by("pk").values_list("kind", flat=True)
    )


def last_event_id() -> int:
    return OutboxEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def test_every_appointment_change_and_new_customer_writes_one_event(world_a, api):
    mark = last_event_id()
    tenant, owner = world_a.tenant, world_a.owner
    booked, _ = appointment_book(
        tenant=tenant, actor=owner, service=world_a.cut, customer=world_a.customer,
        starts_at=world_a.at(14), resources=[world_a.stylist],
    )  # fmt: skip
    appointment_reschedule(tenant=tenant, actor=owner, appointment=booked, starts_at=world_a.at(15))
    for to in ("CONFIRMED", "COMPLETED"):
        appointment_transition(tenant=tenant, actor=owner, appointment=booked, to=to)
    appointment_transition(
        tenant=tenant, actor=owner, appointment=world_a.other_appointment, to="CANCELLED"
    )
    appointment_transition(
        tenant=tenant, actor=owner, appointment=world_a.appointment, to="NO_SHOW"
    )
    created = api(HOST_A, world_a.manager).post(
        "/api/customers/", {"name": "Nia New", "email": "nia@example.com"}, format="json"
    )
    assert created.status_code == 201
    assert kinds_since(mark) == [
        "appointment.created", "appointment.rescheduled", "appointment.confirmed",
        "appointment.completed", "appointment.cancelled", "appointment.no_show",
        "customer.created",
    ]  # fmt: skip
    event = OutboxEvent.objects.get(kind="customer.created", pk__gt=mark)
    assert event.tenant == tenant and event.payload["email"] == "nia@example.com"
    booked_event = OutboxEvent.objects.get(kind="appointment.created", pk__gt=mark)
    assert booked_event.payload["id"] == str(booked.public_id)
    assert booked_event.payload["resources"][0]["name"] == "Ana (stylist)"


def test_a_change_that_rolls_back_leaves_no_event(world_a):
    mark = last_event_id()
    with pytest.raises(Conflict):  # the stylist is taken at 10:00: the booking rolls back
        appointment_book(
            tenant=world_a.tenant, actor=world_a.owner, service=world_a.cut,
            customer=world_a.customer, starts_at=world_a.at(10), resources=[world_a.stylist],
        )  # fmt: skip

    @transaction.atomic
    def confirm_then_fail() -> None:
        appointment_transition(
            tenant=world_a.tenant, actor=world_a.owner, appointment=world_a.other_appointment,
            to="CONFIRMED",
        )  # fmt: skip
        raise RuntimeError("the caller's transaction fails after the change")

    with pytest.raises(RuntimeError):
        confirm_then_fail()
    assert kinds_since(mark) == []


def test_retries_back_off_exponentially_up_to_the_cap(settings):
    settings.NOTIFICATIONS_RETRY_BASE_SECONDS = 30
    settings.NOTIFICATIONS_RETRY_MAX_SECONDS = 3600
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert retry_delay(20) == timedelta(hours=1)


def test_due_jobs_become_events_once(tenant_a, tenant_b):
    now = timezone.now()
    for tenant in (tenant_a, tenant_b):
        due_job_schedule(tenant=tenant, plugin="p", kind="k", key="due", due_at=now)
        due_job_schedule(
            tenant=tenant, plugin="p", kind="k", key="later", due_at=now + timedelta(hours=1)
        )
    fired = due_jobs_fire(now=now)
    assert len(fired) == 2 and due_jobs_fire(now=now) == []
    events = OutboxEvent.objects.filter(pk__in=fired)
    assert {e.kind for e in events} == {"job.k"} and {e.plugin for e in events} == {"p"}
    assert set(DueJob.objects.values_list("key", flat=True)) == {"later"}


def test_scanning_for_due_jobs_is_one_indexed_query_whatever_waits_later(tenant_a):
    later = timezone.now() + timedelta(days=1)
    DueJob.objects.bulk_create(
        DueJob(
            tenant=tenant_a, plugin="p", kind="k", key=str(i), due_at=later + timedelta(seconds=i)
        )
        for i in range(5000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE notifications_duejob")
    with CaptureQueriesContext(connection) as queries:
        assert due_jobs_fire() == []
    selects = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert len(selects) == 1
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + selects[0])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "duejob_due_idx" in plan, plan


@pytest.mark.skipif(not redis_answers(), reason="no Redis on 127.0.0.1:6379 (make test starts one)")
def test_outbox_tasks_sent_from_a_business_run_in_the_public_schema(world_a, settings):
    """An event's commit hook runs in the business's schema; its task must not (the rows it
    handles are every tenant's): the message names the public schema, which tenant-schemas-celery
    selects in the worker before the task runs."""
    settings.NOTIFICATIONS_QUEUE = f"test-outbox-{uuid.uuid4().hex}"
    broker = redis.Redis.from_url(app.conf.broker_url)
    try:
        connection.set_tenant(world_a.tenant)
        enqueue(dispatch_event, 1)
        (raw,) = broker.lrange(settings.NOTIFICATIONS_QUEUE, 0, -1)
    finally:
        broker.delete(settings.NOTIFICATIONS_QUEUE)
        broker.close()
    message = json.loads(raw)
    assert message["headers"]["task"] == "notifications.tasks.dispatch_event"
    assert message["headers"]["_schema_name"] == "public"
