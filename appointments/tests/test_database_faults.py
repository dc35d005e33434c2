"""Database connections dropped in the middle of bookings: nothing committed is lost to its
client, and no client is told anything but the truth in JSON.

Clients book over real HTTP, each with its own Idempotency-Key and retrying on 503 as told,
while another connection kills the server's database backends (``pg_terminate_backend``) again
and again. Afterwards every appointment in the database must have been answered to its client
(201, or 200 to a retry that replayed it), and no answer may be a 500 or anything but JSON.
"""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.db import transaction
from django.db.models.signals import post_save
from rest_framework.test import APIClient

from appointments.models import Appointment
from appointments.tests.live import Answer, committed_schedule, request, serving
from appointments.tests.test_booking import overlapping_allocations
from conftest import HOST_A, bearer, connection
from tenancy.provisioning import on_own_connection

CLIENTS = 16
ATTEMPTS = 100
# For this long, every 50 ms, each of the server's backends dies with even odds; then the
# database recovers and every client gets through.
CHAOS_SECONDS = 1.5
KILL_EVERY_SECONDS = 0.05
KILL_SQL = """
    SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
     WHERE datname = current_database() AND backend_type = 'client backend'
       AND pid <> ALL(%s) AND random() < 0.5
"""


class BackendKiller:
    """Terminates other client backends of this database (never the protected ones), over and
    over on a connection of its own, for ``CHAOS_SECONDS`` or until stopped."""

    def __init__(self, protected: list[int]) -> None:
        self.protected = protected
        self.terminated = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                protected = [*self.protected, cursor.fetchone()[0]]
                deadline = time.monotonic() + CHAOS_SECONDS
                while not self._stop.wait(KILL_EVERY_SECONDS) and time.monotonic() < deadline:
                    cursor.execute(KILL_SQL, [protected])
                    self.terminated += cursor.fetchone()[0]
        finally:
            connection.close()

    def __enter__(self) -> BackendKiller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_bookings_survive_killed_connections_and_every_saved_one_was_answered(db):
    protected = [_backend_pid()]  # the test's own transaction
    on_own_connection(lambda: _book_while_backends_die(protected))


def _book_while_backends_die(protected: list[int]) -> None:
    with committed_schedule() as world, serving() as port:
        token = bearer(world.owner, "alpha")
        answers: list[Answer] = []

        def book_until_answered(slot: int) -> Answer:
            body = {
                "service": str(world.service.public_id),
                "customer": str(world.customer.public_id),
                "starts_at": (world.day + timedelta(hours=slot)).isoformat(),
            }
            key = f"fault-{uuid.uuid4().hex}"
            for _ in range(ATTEMPTS):
                answer = request(
                    port, "POST", "/api/appointments/", host=HOST_A, body=body,
                    Authorization=token, **{"Idempotency-Key": key},
                )  # fmt: skip
                answers.append(answer)
                if answer.status != 503:
                    return answer
                time.sleep(0.01)  # told Retry-After seconds; a test has no time to wait that long
            return answer

        protected.append(_backend_pid())  # this scenario's own connection
        with BackendKiller(protected) as killer, ThreadPoolExecutor(CLIENTS) as pool:
            finals = list(pool.map(book_until_answered, range(CLIENTS)))

        statuses = [a.status for a in answers]
        assert killer.terminated > 0 and 503 in statuses, (killer.terminated, statuses)
        assert set(statuses) <= {200, 201, 503}, statuses  # never a 500
        assert all(a.headers["content-type"] == "application/json" for a in answers)
        for answer in answers:
            if answer.status == 503:
                assert answer.body["error"]["code"] == "database_unavailable"
                assert int(answer.headers["retry-after"]) > 0
        assert all(a.status in (200, 201) for a in finals), [
            (a.status, a.body) for a in finals if a.status not in (200, 201)
        ]

        answered = {a.body["id"] for a in answers if a.status in (200, 201)}
        connection.set_tenant(world.tenant)
        saved = {
            str(public_id)
            for public_id in Appointment.objects.filter(service=world.service).values_list(
                "public_id", flat=True
            )
        }
        assert saved == answered
        assert len(saved) == CLIENTS
        assert overlapping_allocations() == 0


def test_a_booking_whose_connection_dies_right_after_its_commit_is_answered_201(db):
    on_own_connection(_booking_loses_its_connection_at_commit)


def _booking_loses_its_connection_at_commit() -> None:
    def kill_this_connection_once_committed(instance: Appointment, **kwargs: object) -> None:
        pid = connection.connection.info.backend_pid
        transaction.on_commit(lambda: on_own_connection(lambda: _terminate(pid)))

    with committed_schedule() as world:
        client = APIClient(HTTP_HOST=HOST_A)
        client.credentials(HTTP_AUTHORIZATION=bearer(world.owner, "alpha"))
        body = {
            "service": str(world.service.public_id),
            "customer": str(world.customer.public_id),
            "starts_at": world.day.isoformat(),
        }
        post_save.connect(kill_this_connection_once_committed, sender=Appointment)
        try:
            response = client.post("/api/appointments/", body, format="json")
        finally:
            post_save.disconnect(kill_this_connection_once_committed, sender=Appointment)
        connection.close()  # the dead one: the checks below read on a fresh connection
        assert response.status_code == 201, response.json()
        connection.set_tenant(world.tenant)
        saved = Appointment.objects.get(service=world.service)
        assert response.json()["id"] == str(saved.public_id)
        assert [r["name"] for r in response.json()["resources"]] == ["Contested chair 0"]


def _terminate(pid: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
