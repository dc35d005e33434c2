"""Real parallel requests over HTTP, each on its own database connection: the database decides
who gets the slot, and which retry of one Idempotency-Key books."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from appointments.models import Allocation, Appointment
from appointments.tests.live import Answer, committed_schedule, request, serving
from appointments.tests.test_booking import overlapping_allocations
from conftest import HOST_A, bearer, connection
from tenancy.provisioning import on_own_connection

CLIENTS = 20


def _post_together(port: int, token: str, bodies: list[dict], **headers: str) -> list[Answer]:
    barrier = threading.Barrier(len(bodies))

    def post(body: dict) -> Answer:
        barrier.wait()
        return request(
            port, "POST", "/api/appointments/", host=HOST_A, body=body,
            Authorization=token, **headers,
        )  # fmt: skip

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(post, bodies))


def test_twenty_parallel_bookings_of_one_resource_one_wins_the_rest_get_409(db):
    on_own_connection(_twenty_clients_race_for_one_resource)


def _twenty_clients_race_for_one_resource() -> None:
    with committed_schedule() as world, serving() as port:
        (resource,) = world.resources
        # Starts 3 minutes apart: every pair of these one-hour holds overlaps.
        bodies = [
            {
                "service": str(world.service.public_id),
                "customer": str(world.customer.public_id),
                "starts_at": (world.day + timedelta(minutes=3 * i)).isoformat(),
                "resources": [str(resource.public_id)],
            }
            for i in range(CLIENTS)
        ]
        answers = _post_together(port, bearer(world.owner, "alpha"), bodies)
        assert sorted(a.status for a in answers) == [201] + [409] * (CLIENTS - 1)
        for answer in answers:
            if answer.status == 409:  # a clear message naming the busy resource
                assert answer.body["error"]["code"] == "resource_busy"
                assert "Contested chair 0" in answer.body["error"]["message"]
        connection.set_tenant(world.tenant)
        assert Allocation.objects.filter(resource=resource, is_live=True).count() == 1
        assert overlapping_allocations() == 0


def test_twenty_parallel_retries_with_one_idempotency_key_book_exactly_once(db):
    on_own_connection(_twenty_retries_of_one_booking)


def _twenty_retries_of_one_booking() -> None:
    with committed_schedule() as world, serving() as port:
        key = f"retry-{uuid.uuid4().hex}"
        body = {
            "service": str(world.service.public_id),
            "customer": str(world.customer.public_id),
            "starts_at": world.day.isoformat(),
        }
        answers = _post_together(
            port, bearer(world.owner, "alpha"), [body] * CLIENTS, **{"Idempotency-Key": key}
        )
        assert sorted(a.status for a in answers) == [200] * (CLIENTS - 1) + [201], [
            (a.status, a.body) for a in answers if a.status not in (200, 201)
        ]
        assert len({a.body["id"] for a in answers}) == 1
        assert all(
            a.headers.get("idempotent-replayed") == "true" for a in answers if a.status == 200
        )
        connection.set_tenant(world.tenant)
        assert Appointment.objects.filter(idempotency_key=key).count() == 1
        assert Allocation.objects.filter(resource__in=world.resources, is_live=True).count() == 1

        reused = request(
            port, "POST", "/api/appointments/", host=HOST_A,
            body={**body, "starts_at": (world.day + timedelta(hours=2)).isoformat()},
            Authorization=bearer(world.owner, "alpha"), **{"Idempotency-Key": key},
        )  # fmt: skip
        assert reused.status == 409
        assert reused.body["error"]["code"] == "idempotency_key_reused"
