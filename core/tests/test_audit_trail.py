"""The audit trail is a table: rows written in the transaction of the change, append-only down to
the database, in the public schema whatever host wrote them, mirrored to the JSON logs on commit;
masquerade.log keeps its fail-closed start and never loses an end."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

import psycopg
import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import DatabaseError, transaction

from access.masquerade.records import HIJACK_END, masquerade_line
from access.models import MasqueradeSession
from access.tasks import replay_masquerade_log
from config.celery import app
from conftest import HOST_A, PLATFORM_HOST, connection
from core.audit import security_event
from core.models import AppendOnlyError, AuditEvent, MasqueradeLogBacklog
from core.tests.test_celery_worker import REDIS, redis_answers
from customers.models import Customer
from customers.services import customer_create
from users.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def support(make_user):
    return make_user(Role.PLATFORM_SUPPORT)


@pytest.fixture
def owner(make_user, tenant_a):
    return make_user(Role.TENANT_OWNER, tenant_a)


def start(api, support, target):
    response = api(PLATFORM_HOST, support).post(
        "/api/masquerade/", {"user": str(target.public_id), "reason": "ticket 9"}, format="json"
    )
    return response


def as_token(api, host, raw):
    client = api(host)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


class Rollback(Exception):
    """Raised to roll a block back on purpose."""


class ReadOnly:
    """Makes a file unwritable for this process, root included (tests run as root, for whom
    permission bits are no obstacle): the immutable attribute when root, else mode 0444."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.touch()

    def __enter__(self) -> ReadOnly:
        if os.geteuid() == 0:
            done = subprocess.run(["chattr", "+i", str(self.path)], capture_output=True)
            if done.returncode != 0:
                pytest.skip(f"cannot make {self.path} read-only: {done.stderr.decode().strip()}")
        else:
            self.path.chmod(0o444)
        return self

    def __exit__(self, *exc: object) -> None:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(self.path)], check=True)
        else:
            self.path.chmod(0o644)


def test_an_event_is_a_row_naming_who_did_what_to_which_record_where(api, owner, tenant_a):
    response = api(HOST_A, owner).post("/api/customers/", {"name": "Mia"}, format="json")
    assert response.status_code == 201
    event = AuditEvent.objects.get(action="customer_created")
    assert (event.actor, event.actor_email, event.actor_role) == (owner, owner.email, owner.role)
    assert (event.tenant, event.tenant_schema) == (tenant_a, "alpha")
    assert (event.object_type, event.object_id) == ("customers.customer", response.json()["id"])
    assert (event.ip_address, event.host) == ("127.0.0.1", HOST_A)
    assert (event.request_method, event.request_path) == ("POST", "/api/customers/")
    assert event.request_id is not None and event.operator is None
    assert event.occurred_at.utcoffset().total_seconds() == 0


def test_events_written_on_a_tenant_host_land_in_the_public_schema(api, owner, tenant_a):
    api(HOST_A, owner).post("/api/customers/", {"name": "Mia"}, format="json")
    event = AuditEvent.objects.get(action="customer_created")
    connection.set_tenant(tenant_a)
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('alpha.core_auditevent')")
        assert cursor.fetchone() == (None,)
        cursor.execute(
            "SELECT action FROM public.core_auditevent WHERE public_id = %s", [event.public_id]
        )
        assert cursor.fetchone() == ("customer_created",)


def test_the_orm_refuses_to_change_or_delete_an_event(owner):
    event = security_event("probe", actor=owner)
    for attempt in (
        lambda: AuditEvent.objects.filter(pk=event.pk).update(action="forged"),
        lambda: AuditEvent.objects.filter(pk=event.pk).delete(),
        lambda: AuditEvent.objects.bulk_update([event], ["action"]),
        event.save,
        event.delete,
    ):
        with pytest.raises(AppendOnlyError):
            attempt()
    assert AuditEvent.objects.get(pk=event.pk).action == "probe"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE core_auditevent SET action = 'forged' WHERE id = %s",
        "DELETE FROM core_auditevent WHERE id = %s",
    ],
)
def test_the_database_refuses_to_change_or_delete_an_event(owner, statement):
    event = security_event("probe", actor=owner)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).action == "probe"


def test_only_committed_events_reach_the_security_log(
    owner, tenant_a, django_capture_on_commit_callbacks
):
    log = Path(settings.LOGGING["handlers"]["security_file"]["filename"])
    connection.set_tenant(tenant_a)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        suppress(Rollback),
        transaction.atomic(),
    ):
        customer_create(tenant=tenant_a, actor=owner, name="Ghost")
        ghost = str(AuditEvent.objects.get(action="customer_created").public_id)
        raise Rollback
    assert callbacks == []
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        customer = customer_create(tenant=tenant_a, actor=owner, name="Real")
    # One mirror line for the one event (the other callback hands customer.created to the outbox).
    mirrors = [c for c in callbacks if c.__qualname__ == "security_event.<locals>.mirror"]
    assert len(mirrors) == 1
    event = AuditEvent.objects.get(action="customer_created", object_id=str(customer.public_id))
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    (line,) = [line for line in lines if line.get("event_id") == str(event.public_id)]
    assert line["event"] == "customer_created" and line["actor"]["email"] == owner.email
    assert line["timestamp"] == event.occurred_at.isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"
    )
    assert not [line for line in lines if line.get("event_id") == ghost]


def test_details_named_like_logging_fields_still_reach_the_security_log(
    owner, django_capture_on_commit_callbacks
):
    log = Path(settings.LOGGING["handlers"]["security_file"]["filename"])
    with django_capture_on_commit_callbacks(execute=True):
        event = security_event("probe", actor=owner, name="Room 1", args="x", message="m")
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    (line,) = [line for line in lines if line.get("event_id") == str(event.public_id)]
    assert line["details"] == {"name": "Room 1", "args": "x", "message": "m"}


def test_hostile_text_is_recorded_without_the_nul_postgresql_cannot_store(owner):
    event = security_event("login_failed", actor=owner, email="a\x00b@example.com")
    assert AuditEvent.objects.get(pk=event.pk).details["email"] == "a\ufffdb@example.com"


def test_every_row_written_in_a_masquerade_names_the_operator(api, support, owner):
    masquerade = start(api, support, owner).json()
    client = as_token(api, HOST_A, masquerade["access"])
    assert client.post("/api/customers/", {"name": "Walk-in"}, format="json").status_code == 201
    event = AuditEvent.objects.get(action="customer_created")
    assert (event.actor, event.operator, event.operator_email) == (owner, support, support.email)
    assert str(event.masquerade_id) == masquerade["masquerade"]["id"]


def test_one_masqueraded_write_row_per_write_request_and_none_for_reads(api, support, owner):
    client = as_token(api, HOST_A, start(api, support, owner).json()["access"])
    client.get("/api/customers/")
    client.post("/api/customers/", {"name": "One"}, format="json")
    client.post("/api/customers/", {"name": ""}, format="json")  # refused: still a write attempt
    writes = AuditEvent.objects.filter(action="masqueraded_write").order_by("id")
    assert [w.details["status_code"] for w in writes] == [201, 400]
    assert {(w.actor, w.target, w.operator) for w in writes} == {(support, owner, support)}


def test_a_saved_masqueraded_write_stands_when_its_summary_row_cannot_be_written(
    api, support, owner, caplog
):
    """The write and its own audit row (naming the operator) committed together; the request's
    summary row comes after. If that one cannot be written, the client still hears what was
    saved (a retry would write twice) and the summary goes to the security log."""
    client = as_token(api, HOST_A, start(api, support, owner).json()["access"])
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE public.core_auditevent ADD CONSTRAINT no_masqueraded_writes "
            "CHECK (action <> 'masqueraded_write') NOT VALID"
        )
    response = client.post("/api/customers/", {"name": "Saved"}, format="json")
    assert response.status_code == 201
    created = AuditEvent.objects.get(action="customer_created")
    assert created.operator == support  # the write's own row names the operator
    assert Customer.objects.filter(name="Saved").exists()
    assert not AuditEvent.objects.filter(action="masqueraded_write").exists()
    (line,) = [r for r in caplog.records if r.getMessage().startswith("masqueraded_write not")]
    assert line.operator == support.email and line.status_code == 201


def test_a_start_is_refused_while_the_masquerade_log_is_read_only(
    api, support, owner, masquerade_log
):
    with ReadOnly(masquerade_log):
        response = start(api, support, owner)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "audit_unavailable"
    assert not MasqueradeSession.objects.exists()
    assert not AuditEvent.objects.filter(action="HIJACK_START").exists()


def test_an_end_is_never_lost_while_the_masquerade_log_is_read_only(
    api, support, owner, masquerade_log, masquerade_lines
):
    masquerade = start(api, support, owner).json()
    client = as_token(api, HOST_A, masquerade["access"])
    with ReadOnly(masquerade_log):
        assert client.delete("/api/masquerade/").status_code == 204
        assert MasqueradeSession.objects.get().ended_at is not None
        end = AuditEvent.objects.get(action=HIJACK_END)
        assert MasqueradeLogBacklog.objects.get().event == end
        assert [line["action"] for line in masquerade_lines()] == ["HIJACK_START"]
        with pytest.raises(Exception, match="cannot be written"):
            replay_masquerade_log()
    assert replay_masquerade_log() == 1
    lines = masquerade_lines()
    assert [line["action"] for line in lines] == ["HIJACK_START", "HIJACK_END"]
    assert lines[1]["masquerade_id"] == masquerade["masquerade"]["id"]
    assert lines[1]["hijacker_email"] == support.email
    assert lines[1]["timestamp"] == end.occurred_at.isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"
    )
    assert not MasqueradeLogBacklog.objects.exists()
    assert replay_masquerade_log() == 0


def test_lines_that_waited_are_written_before_the_next_one(
    api, support, owner, make_user, tenant_a, masquerade_log, masquerade_lines
):
    client = as_token(api, HOST_A, start(api, support, owner).json()["access"])
    with ReadOnly(masquerade_log):
        client.delete("/api/masquerade/")
        refused = start(api, support, make_user(Role.PLATFORM_MANAGER))
        assert refused.status_code == 403  # a refusal stands whatever the file does
        assert refused.json()["error"]["code"] == "masquerade_denied"
    assert MasqueradeLogBacklog.objects.count() == 2
    assert start(api, support, make_user(Role.TENANT_STAFF, tenant_a)).status_code == 201
    actions = [line["action"] for line in masquerade_lines()]
    assert actions == ["HIJACK_START", "HIJACK_END", "HIJACK_DENIED", "HIJACK_START"]
    assert not MasqueradeLogBacklog.objects.exists()


def test_the_periodic_replay_is_scheduled():
    entry = settings.CELERY_BEAT_SCHEDULE["replay-masquerade-log"]
    assert entry["task"] == replay_masquerade_log.name
    assert entry["schedule"] == settings.MASQUERADE_LOG_REPLAY_SECONDS


def _rows_seen_by_another_connection(public_id: uuid.UUID) -> int:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as other:
        query = "SELECT count(*) FROM public.core_auditevent WHERE public_id = %s"
        row = other.execute(query, [public_id]).fetchone()
        assert row is not None
        return row[0]


@pytest.mark.skipif(not redis_answers(), reason="no Redis on 127.0.0.1:6379 (make test starts one)")
@pytest.mark.django_db(transaction=True)
def test_rows_commit_with_their_change_and_a_real_worker_replays_waiting_lines(
    make_user, tenant_a, masquerade_log: Path, masquerade_lines: Callable[[], list[Any]]
):
    owner = make_user(Role.TENANT_OWNER, tenant_a)
    connection.set_tenant(tenant_a)
    with transaction.atomic():
        customer_create(tenant=tenant_a, actor=owner, name="Pending")
        event = AuditEvent.objects.get(action="customer_created")
        assert _rows_seen_by_another_connection(event.public_id) == 0
    assert _rows_seen_by_another_connection(event.public_id) == 1
    assert Customer.objects.filter(name="Pending").exists()

    support = make_user(Role.PLATFORM_SUPPORT)
    with ReadOnly(masquerade_log):
        masquerade_line(
            HIJACK_END, request=None, hijacker=support, hijacked=owner, reason="expired",
            channel="API",
        )  # fmt: skip
    assert MasqueradeLogBacklog.objects.count() == 1

    queue = f"test-{uuid.uuid4().hex}"
    app.conf.broker_url = f"redis://{REDIS[0]}:{REDIS[1]}/0"
    with start_worker(app, pool="solo", perform_ping_check=False, queues=[queue]):
        replay_masquerade_log.apply_async(queue=queue)
        deadline = time.monotonic() + 20
        while MasqueradeLogBacklog.objects.exists():
            assert time.monotonic() < deadline, "the worker never replayed the waiting line"
            time.sleep(0.1)
    assert [line["action"] for line in masquerade_lines()] == [HIJACK_END]
