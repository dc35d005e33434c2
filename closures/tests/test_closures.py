"""Tenant-wide closures: nothing free inside one, booking inside refused (`tenant_closed`),
existing appointments reported and kept, and the lock that makes it hold under concurrency."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from appointments.models import Appointment
from appointments.selectors import availability_for
from appointments.services import appointment_book, appointment_transition
from appointments.tests.live import committed_schedule
from closures.models import Closure
from closures.services import closure_create
from conftest import HOST_A, connection
from core.exceptions import DomainError
from core.models import AuditEvent
from tenancy.provisioning import on_own_connection

UTC = ZoneInfo("UTC")


def free_hours(world):
    result = availability_for(
        service=world.cut, date_from=world.day, date_to=world.day, tz=UTC,
        now=datetime.combine(world.day - timedelta(days=7), time(0), tzinfo=UTC),
        step_minutes=60,
    )  # fmt: skip
    return [datetime.fromtimestamp(s.start, UTC).hour for s in result.slots]


def close(world, start, end, title="Holiday"):
    return closure_create(actor=world.owner, title=title, starts_at=start, ends_at=end)


def test_no_start_is_free_whose_appointment_would_overlap_a_closure(world_a):
    assert free_hours(world_a) == [8, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19]
    close(world_a, world_a.at(12, 30), world_a.at(14))
    # A 60-minute cut: 11:00 would end at 12:00, free; 12:00 and 13:00 overlap; 14:00 is free.
    assert free_hours(world_a) == [8, 9, 11, 14, 15, 16, 17, 18, 19]


@pytest.mark.parametrize("shape", ["slots", "compact"])
def test_availability_lists_the_closures_of_its_range(world_a, api, shape):
    close(world_a, world_a.at(0), world_a.at(0, days=1), title="Public holiday")
    response = api(HOST_A, world_a.customer_user).get(
        "/api/availability/",
        {"service": str(world_a.cut.public_id), "start": str(world_a.day),
         "end": str(world_a.day + timedelta(days=1)), "shape": shape, "timezone": "UTC"},
    )  # fmt: skip
    body = response.json()
    assert response.status_code == 200
    assert body["closures"] == [
        {
            "title": "Public holiday",
            "starts_at": world_a.at(0).astimezone(UTC).isoformat(),
            "ends_at": world_a.at(0, days=1).astimezone(UTC).isoformat(),
        }
    ]
    starts = [s["starts_at"] for s in body.get("slots", [])] or [
        r["first"] for g in body["groups"] for r in g["runs"]
    ]
    assert starts and all(s.startswith(str(world_a.day + timedelta(days=1))) for s in starts)


def test_booking_or_rescheduling_into_a_closure_is_refused_with_tenant_closed(world_a, api):
    close(world_a, world_a.at(15), world_a.at(17), title="Staff party")
    client = api(HOST_A, world_a.owner)
    body = {"service": str(world_a.cut.public_id), "customer": str(world_a.customer.public_id)}
    for start in (world_a.at(14, 30), world_a.at(16, 59)):  # ends inside; starts inside
        refused = client.post(
            "/api/appointments/", {**body, "starts_at": start.isoformat()}, format="json"
        )
        assert refused.status_code == 400, refused.json()
        assert refused.json()["error"]["code"] == "tenant_closed"
        assert "Staff party" in refused.json()["error"]["message"]
    moved = client.post(
        f"/api/appointments/{world_a.appointment.public_id}/reschedule/",
        {"starts_at": world_a.at(15).isoformat()}, format="json",
    )  # fmt: skip
    assert moved.status_code == 400 and moved.json()["error"]["code"] == "tenant_closed"
    # Touching the closure is not overlapping it.
    for start in (world_a.at(14), world_a.at(17)):
        booked = client.post(
            "/api/appointments/", {**body, "starts_at": start.isoformat()}, format="json"
        )
        assert booked.status_code == 201, booked.json()


def test_a_new_closure_reports_the_open_appointments_inside_and_cancels_none(world_a, api):
    appointment_transition(
        tenant=world_a.tenant, actor=world_a.owner, appointment=world_a.other_appointment,
        to="CANCELLED",
    )  # fmt: skip
    response = api(HOST_A, world_a.manager).post(
        "/api/closures/",
        {"title": "Flood", "starts_at": world_a.at(9).isoformat(),
         "ends_at": world_a.at(10, 30).isoformat()},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    affected = response.json()["affected_appointments"]
    assert [a["id"] for a in affected] == [str(world_a.appointment.public_id)]  # not the cancelled
    assert affected[0]["customer_name"] == world_a.customer.name
    world_a.appointment.refresh_from_db()
    assert world_a.appointment.status == "CONFIRMED"  # kept as it was
    event = AuditEvent.objects.filter(action="closure_created").latest("id")
    assert event.details["affected_appointments"] == [str(world_a.appointment.public_id)]
    closure_id = response.json()["id"]
    shown = api(HOST_A, world_a.staff).get(f"/api/closures/{closure_id}/").json()
    assert [a["id"] for a in shown["affected_appointments"]] == [a["id"] for a in affected]
    # Moved so it no longer covers the appointment: nothing to report.
    moved = api(HOST_A, world_a.owner).patch(
        f"/api/closures/{closure_id}/", {"starts_at": world_a.at(11).isoformat(),
                                          "ends_at": world_a.at(12).isoformat()}, format="json",
    )  # fmt: skip
    assert moved.status_code == 200 and moved.json()["affected_appointments"] == []


def test_a_closure_must_end_after_it_starts_and_carry_an_offset(world_a, api):
    client = api(HOST_A, world_a.owner)
    backwards = client.post(
        "/api/closures/",
        {"title": "x", "starts_at": world_a.at(12).isoformat(),
         "ends_at": world_a.at(11).isoformat()},
        format="json",
    )  # fmt: skip
    assert backwards.status_code == 400 and "ends_at" in backwards.json()["error"]["fields"]
    naive = client.post(
        "/api/closures/",
        {"title": "x", "starts_at": "2030-01-01T00:00:00", "ends_at": "2030-01-02T00:00:00"},
        format="json",
    )
    assert naive.status_code == 400
    assert not Closure.objects.filter(title="x").exists()


# Concurrency, on committed data and connections of their own (appointments.tests.live).


def test_a_closure_waits_for_a_booking_in_flight_and_reports_it(db):
    on_own_connection(lambda: _race(closure_first=False))


def test_a_booking_waits_for_a_closure_in_flight_and_is_refused(db):
    on_own_connection(lambda: _race(closure_first=True))


def _race(*, closure_first: bool) -> None:
    with committed_schedule() as s:
        first_done, release = threading.Event(), threading.Event()
        start = s.day + timedelta(hours=1)

        def book() -> Appointment:
            connection.set_tenant(s.tenant)
            appointment, _ = appointment_book(
                tenant=s.tenant, actor=s.owner, service=s.service, customer=s.customer,
                starts_at=start,
            )  # fmt: skip
            return appointment

        def close_() -> list[str]:
            connection.set_tenant(s.tenant)
            _, affected = closure_create(
                actor=s.owner, title="Race", starts_at=s.day, ends_at=s.day + timedelta(hours=3)
            )
            return [str(a.public_id) for a in affected]

        def held_open(work):  # runs ``work`` and keeps its transaction open until released
            def run():
                try:
                    with transaction.atomic():
                        result = work()
                        first_done.set()
                        release.wait(10)
                    return result
                finally:
                    connection.close()

            return run

        def alone(work):
            def run():
                try:
                    return work()
                finally:
                    connection.close()

            return run

        first, second = (close_, book) if closure_first else (book, close_)
        try:
            with ThreadPoolExecutor(max_workers=2) as pool:
                held = pool.submit(held_open(first))
                assert first_done.wait(10)
                waiting = pool.submit(alone(second))
                # The second waits on the closure lock while the first's transaction is open.
                with pytest.raises(TimeoutError):
                    waiting.result(timeout=0.5)
                release.set()
                first_result = held.result(timeout=10)
                if closure_first:
                    with pytest.raises(DomainError) as refused:
                        waiting.result(timeout=10)
                    assert refused.value.code == "tenant_closed"
                else:
                    assert waiting.result(timeout=10) == [str(first_result.public_id)]
        finally:
            release.set()
            connection.set_tenant(s.tenant)
            Closure.objects.filter(title="Race").delete()
