"""Parallel slot holds over real HTTP, each request on its own database connection: the database
(the exclusion constraint, with each hold's liveness range) lets exactly one visitor hold a slot,
and nobody can book it while the hold runs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta

from appointments.models import Allocation, Appointment, SlotHold
from appointments.tests.live import Answer, committed_schedule, request, serving
from appointments.tests.test_booking import overlapping_allocations
from conftest import HOST_A, bearer, connection
from customers.models import Customer
from tenancy.models import Tenant
from tenancy.provisioning import on_own_connection
from tenancy.selectors import routes_changed

CLIENTS = 20


@contextmanager
def public_booking_on() -> Iterator[None]:
    Tenant.objects.filter(schema_name="alpha").update(public_booking_enabled=True)
    routes_changed([HOST_A])
    try:
        yield
    finally:
        connection.set_schema_to_public()
        Tenant.objects.filter(schema_name="alpha").update(public_booking_enabled=False)
        routes_changed([HOST_A])


def _together(port: int, bodies: list[dict], path: str, **headers: str) -> list[Answer]:
    barrier = threading.Barrier(len(bodies))

    def post(body: dict) -> Answer:
        barrier.wait()
        return request(port, "POST", path, host=HOST_A, body=body, **headers)

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(post, bodies))


def test_twenty_parallel_holds_of_one_slot_give_one_hold(db):
    on_own_connection(_twenty_visitors_hold_one_slot)


def _twenty_visitors_hold_one_slot() -> None:
    with committed_schedule() as world, public_booking_on(), serving() as port:
        # Starts 3 minutes apart: every pair of these one-hour slots overlaps.
        bodies = [
            {
                "service": str(world.service.public_id),
                "starts_at": (world.day + timedelta(minutes=3 * i)).isoformat(),
            }
            for i in range(CLIENTS)
        ]
        answers = _together(port, bodies, "/api/public/holds/")
        assert sorted(a.status for a in answers) == [201] + [409] * (CLIENTS - 1), [
            (a.status, a.body) for a in answers if a.status not in (201, 409)
        ]
        assert {a.body["error"]["code"] for a in answers if a.status == 409} == {"resource_busy"}
        (won,) = [a for a in answers if a.status == 201]

        # While it runs, a signed-in owner cannot book over it either.
        owner = bearer(world.owner, "alpha")
        booking = {
            "service": str(world.service.public_id),
            "customer": str(world.customer.public_id),
            "starts_at": won.body["starts_at"],
        }
        refused = request(
            port, "POST", "/api/appointments/", host=HOST_A, body=booking, Authorization=owner
        )
        assert refused.status == 409

        # The holder books it: the hold becomes the appointment. The guest is the schedule's
        # customer (matched by e-mail), so no customer is created and audited for good: audit
        # rows outlive this committed scenario, and other tests count customers' rows.
        Customer.objects.filter(pk=world.customer.pk).update(email="racer@example.com")
        guest = {
            "service": str(world.service.public_id),
            "starts_at": won.body["starts_at"],
            "name": "Racer",
            "email": "racer@example.com",
            "hold": won.body["id"],
        }
        booked = request(port, "POST", "/api/public/bookings/", host=HOST_A, body=guest)
        assert booked.status == 201, booked.body
        connection.set_tenant(world.tenant)
        assert not SlotHold.objects.filter(service=world.service).exists()
        assert Allocation.objects.filter(resource__in=world.resources, is_live=True).count() == 1
        assert overlapping_allocations() == 0
        assert Appointment.objects.get(service=world.service).customer_id == world.customer.pk
