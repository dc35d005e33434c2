"""Issue 13 under real concurrency over HTTP (the live server of ``appointments.tests.live``,
each request in its own thread on its own database connection): the database alone decides.

- 100 bookings into a session of capacity 10: exactly 10 seats, 90 clear 409 ``session_full``,
  and a recount in SQL agrees;
- 20 series booked at once, each overlapping all the others: no overlapping allocation;
- two claims of one waitlist offer (and a direct booking) racing for one kept seat: one booking.

The machine's PostgreSQL allows 100 connections shared by every test process, so the 100
bookings are sent by ``IN_FLIGHT`` clients at once rather than 100 (each waits for a start gate).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta

from appointments.models import Appointment, AppointmentSeries, GroupSession, WaitlistEntry
from appointments.services import appointment_book, appointment_transition
from appointments.services.offers import claim_path
from appointments.services.waitlist import waitlist_join
from appointments.tests.live import Answer, committed_schedule, request, serving
from appointments.tests.test_booking import overlapping_allocations
from catalog.models import Service
from catalog.services import service_create
from conftest import HOST_A, bearer, connection
from customers.models import Customer
from tenancy.provisioning import on_own_connection

IN_FLIGHT = 25
BOOKINGS, CAPACITY = 100, 10
SERIES_CLIENTS = 20


def _send_all(port: int, calls: Sequence[tuple[str, str, dict | None, str | None]]) -> list[Answer]:
    """Send every (method, path, body, authorization) at once, ``IN_FLIGHT`` at a time."""
    gate = threading.Event()

    def send(call: tuple[str, str, dict | None, str | None]) -> Answer:
        method, path, body, token = call
        gate.wait()
        headers = {"Authorization": token} if token else {}
        return request(port, method, path, host=HOST_A, body=body, **headers)

    with ThreadPoolExecutor(max_workers=min(IN_FLIGHT, len(calls))) as pool:
        futures = [pool.submit(send, call) for call in calls]
        gate.set()
        return [future.result() for future in futures]


@contextmanager
def committed_class(capacity: int, *, people: int) -> Iterator[tuple]:
    """On top of the committed schedule: a group service of ``capacity`` seats on its resource
    and ``people`` customers; all removed afterwards."""
    with committed_schedule() as world:
        service = service_create(
            actor=world.owner, name="Contested class", duration_minutes=60, price=10,
            capacity=capacity,
            requirements=[{"resource_type": "EQUIPMENT", "eligible_resources": world.resources}],
        )  # fmt: skip
        crowd = [Customer.objects.create(name=f"Racer {i}") for i in range(people)]
        try:
            yield world, service, crowd
        finally:
            connection.set_tenant(world.tenant)
            WaitlistEntry.objects.filter(service=service).delete()
            Appointment.objects.filter(service=service).delete()
            GroupSession.objects.filter(service=service).delete()
            Service.objects.filter(pk=service.pk).delete()
            Customer.objects.filter(pk__in=[c.pk for c in crowd]).delete()


def _count(sql: str, params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def test_a_hundred_bookings_into_a_class_of_ten_take_exactly_ten_seats(db):
    on_own_connection(_hundred_into_ten)


def _hundred_into_ten() -> None:
    with committed_class(CAPACITY, people=BOOKINGS) as (world, service, crowd), serving() as port:
        token = bearer(world.owner, "alpha")
        start = (world.day + timedelta(hours=2)).isoformat()
        calls = [
            ("POST", "/api/appointments/", {
                "service": str(service.public_id), "customer": str(c.public_id),
                "starts_at": start,
            }, token)
            for c in crowd
        ]  # fmt: skip
        answers = _send_all(port, calls)
        statuses = sorted(a.status for a in answers)
        assert statuses == [201] * CAPACITY + [409] * (BOOKINGS - CAPACITY), statuses
        refusals = {a.body["error"]["code"] for a in answers if a.status == 409}
        assert refusals == {"session_full"}
        connection.set_tenant(world.tenant)
        (session,) = GroupSession.objects.filter(service=service)
        assert (session.seats_taken, session.is_open) == (CAPACITY, True)
        seats = _count(
            "SELECT count(*) FROM appointments_appointment WHERE session_id = %s "
            "AND status <> 'CANCELLED'",
            [session.pk],
        )
        holds = _count(
            "SELECT count(*) FROM appointments_allocation WHERE session_id = %s AND is_live",
            [session.pk],
        )
        assert (seats, holds) == (CAPACITY, 1)
        assert overlapping_allocations() == 0


def test_twenty_parallel_series_that_all_overlap_never_overlap_an_allocation(db):
    on_own_connection(_twenty_series)


def _twenty_series() -> None:
    with committed_schedule() as world, serving() as port:
        token = bearer(world.owner, "alpha")
        calls = [
            ("POST", "/api/appointment-series/", {
                "service": str(world.service.public_id),
                "customer": str(world.customer.public_id),
                # 3 minutes apart: every occurrence overlaps the same day's of every other series.
                "starts_at": (world.day + timedelta(minutes=3 * i)).isoformat(),
                "rrule": "FREQ=DAILY;COUNT=3",
            }, token)
            for i in range(SERIES_CLIENTS)
        ]  # fmt: skip
        answers = _send_all(port, calls)
        statuses = sorted(a.status for a in answers)
        assert statuses == [201] + [409] * (SERIES_CLIENTS - 1), statuses
        assert {a.body["error"]["code"] for a in answers if a.status == 409} == {"series_conflict"}
        connection.set_tenant(world.tenant)
        assert overlapping_allocations() == 0
        try:
            (series,) = AppointmentSeries.objects.filter(service=world.service)
            assert Appointment.objects.filter(series=series).count() == 3
        finally:
            Appointment.objects.filter(service=world.service).delete()
            AppointmentSeries.objects.filter(service=world.service).delete()


def test_two_claims_of_one_offer_and_a_booking_racing_for_one_seat_book_once(db):
    on_own_connection(_claims_race)


def _claims_race() -> None:
    with committed_class(2, people=4) as (world, service, crowd), serving() as port:
        start = world.day + timedelta(hours=5)
        seated = [
            appointment_book(tenant=world.tenant, actor=world.owner, service=service,
                             customer=c, starts_at=start)[0]
            for c in crowd[:2]
        ]  # fmt: skip
        entry = waitlist_join(tenant=world.tenant, actor=world.owner, service=service,
                              customer=crowd[2], starts_at=start)  # fmt: skip
        appointment_transition(tenant=world.tenant, actor=world.owner, appointment=seated[0],
                               to="CANCELLED")  # fmt: skip
        link = claim_path(tenant=world.tenant, entry=entry)
        direct = {"service": str(service.public_id), "customer": str(crowd[3].public_id),
                  "starts_at": start.isoformat()}  # fmt: skip
        answers = _send_all(port, [
            ("POST", link, None, None),
            ("POST", link, None, None),
            ("POST", "/api/appointments/", direct, bearer(world.owner, "alpha")),
        ])  # fmt: skip
        claims, booking = answers[:2], answers[2]
        assert sorted(a.status for a in claims) == [201, 409]
        assert {a.body["error"]["code"] for a in claims if a.status == 409} == {
            "offer_not_available"
        }
        assert (booking.status, booking.body["error"]["code"]) == (409, "session_full")
        connection.set_tenant(world.tenant)
        session = GroupSession.objects.get(service=service, is_open=True)
        live = Appointment.objects.filter(session=session).exclude(status="CANCELLED")
        assert session.seats_taken == live.count() == 2
        assert set(live.values_list("customer_id", flat=True)) == {crowd[1].pk, crowd[2].pk}
