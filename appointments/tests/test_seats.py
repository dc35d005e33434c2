"""Group sessions: the resources are held once per session, customers take seats, and the
database keeps the count within the capacity and one seat per customer."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from icalendar import Calendar

from appointments.ical import resource_calendar_feed
from appointments.models import Allocation, Appointment, GroupSession
from appointments.permissions import check_appointment_action
from appointments.services import appointment_book, appointment_reschedule, appointment_transition
from appointments.tests.group import customers, group_service, studio
from catalog.services import service_create
from conftest import HOST_A, connection
from core.exceptions import Conflict, DomainError, PermissionDenied


def seat(world, service, customer, start):
    return appointment_book(
        tenant=world.tenant, actor=world.owner, service=service, customer=customer,
        starts_at=start,
    )[0]  # fmt: skip


@pytest.fixture
def yoga(world_a):
    room = studio(world_a)
    return group_service(world_a, capacity=3, rooms=[room]), room


def test_seats_share_one_session_that_holds_the_room_once(world_a, yoga):
    service, room = yoga
    start = world_a.at(11)
    taken = [seat(world_a, service, c, start) for c in customers(3)]
    session = GroupSession.objects.get(service=service)
    assert {a.session_id for a in taken} == {session.pk}
    assert (session.seats_taken, session.capacity, session.is_open) == (3, 3, True)
    assert Allocation.objects.filter(resource=room, is_live=True).count() == 1
    assert not Allocation.objects.filter(appointment__in=taken).exists()


def test_the_seat_after_the_last_is_refused_as_session_full(world_a, yoga):
    service, _ = yoga
    for customer in customers(3):
        seat(world_a, service, customer, world_a.at(11))
    with pytest.raises(Conflict) as refused:
        seat(world_a, service, customers(1, "Late")[0], world_a.at(11))
    assert refused.value.code == "session_full"
    assert GroupSession.objects.get(service=service).seats_taken == 3


def test_one_customer_holds_one_seat_unless_the_service_allows_more(world_a, yoga):
    service, _ = yoga
    seat(world_a, service, world_a.customer, world_a.at(11))
    with pytest.raises(Conflict) as twice:
        seat(world_a, service, world_a.customer, world_a.at(11))
    assert twice.value.code == "already_seated"
    assert GroupSession.objects.get(service=service).seats_taken == 1  # the count rolled back

    family = group_service(world_a, capacity=4, rooms=[studio(world_a, name="Hall")],
                           allow_multiple_seats=True)  # fmt: skip
    seat(world_a, family, world_a.customer, world_a.at(15))
    seat(world_a, family, world_a.customer, world_a.at(15))
    assert GroupSession.objects.get(service=family).seats_taken == 2


def test_the_database_itself_refuses_more_seats_than_the_capacity(world_a, yoga):
    service, _ = yoga
    seat(world_a, service, world_a.customer, world_a.at(11))
    session = GroupSession.objects.get(service=service)
    refused = pytest.raises(IntegrityError, match="session_seats_within_capacity")
    with refused, transaction.atomic():
        GroupSession.objects.filter(pk=session.pk).update(seats_taken=4)
    first = Appointment.objects.get(session=session)
    twice = pytest.raises(IntegrityError, match="appointment_one_seat_per_customer")
    with twice, transaction.atomic():
        Appointment.objects.create(
                session=session, single_seat=True, customer=world_a.customer, service=service,
                starts_at=first.starts_at, ends_at=first.ends_at, price=first.price,
            )  # fmt: skip


def test_a_cancelled_seat_is_free_again_and_the_last_one_closes_the_session(world_a, yoga):
    service, room = yoga
    a, b = (seat(world_a, service, c, world_a.at(11)) for c in customers(2))
    appointment_transition(tenant=world_a.tenant, actor=world_a.owner, appointment=a,
                           to="CANCELLED")  # fmt: skip
    session = GroupSession.objects.get(service=service)
    assert (session.seats_taken, session.is_open) == (1, True)
    appointment_transition(tenant=world_a.tenant, actor=world_a.owner, appointment=b,
                           to="CANCELLED")  # fmt: skip
    session.refresh_from_db()
    assert (session.seats_taken, session.is_open) == (0, False)
    assert not Allocation.objects.filter(resource=room, is_live=True).exists()
    again = seat(world_a, service, world_a.customer, world_a.at(11))  # a new session opens
    assert again.session_id != session.pk


def test_a_seat_cannot_be_rescheduled(world_a, yoga):
    service, _ = yoga
    taken = seat(world_a, service, world_a.customer, world_a.at(11))
    with pytest.raises(DomainError, match="cannot be moved"):
        appointment_reschedule(tenant=world_a.tenant, actor=world_a.owner, appointment=taken,
                               starts_at=world_a.at(13))  # fmt: skip


def test_availability_shows_the_seats_left_in_each_session(world_a, yoga, api):
    service, room = yoga
    for customer in customers(2):
        seat(world_a, service, customer, world_a.at(11))
    connection.set_schema_to_public()
    answer = api(HOST_A, world_a.owner).get(
        "/api/availability/",
        {"service": str(service.public_id), "start": str(world_a.day), "end": str(world_a.day),
         "step_minutes": 60},
    )  # fmt: skip
    assert answer.status_code == 200
    slots = {s["starts_at"]: s for s in answer.json()["slots"]}
    at_eleven = slots[world_a.at(11).isoformat()]
    assert at_eleven["seats_left"] == 1 and at_eleven["session"] is not None
    assert at_eleven["resources"][0]["id"] == str(room.public_id)
    assert slots[world_a.at(14).isoformat()]["seats_left"] == 3  # no session yet: the capacity
    assert slots[world_a.at(14).isoformat()]["session"] is None


def test_a_customer_books_a_seat_over_http_and_the_full_session_answers_409(world_a, api):
    service = group_service(world_a, capacity=2, rooms=[studio(world_a)])
    late = customers(1, "Late")[0]
    connection.set_schema_to_public()
    body = {"service": str(service.public_id), "starts_at": world_a.at(11).isoformat()}
    mine = api(HOST_A, world_a.customer_user).post("/api/appointments/", body, format="json")
    assert mine.status_code == 201, mine.json()
    assert mine.json()["session"] is not None

    owner = api(HOST_A, world_a.owner)
    for customer, status in ((world_a.other_customer, 201), (late, 409)):
        answer = owner.post(
            "/api/appointments/", {**body, "customer": str(customer.public_id)}, format="json"
        )
        assert answer.status_code == status
    assert answer.json()["error"]["code"] == "session_full"


def test_staff_seat_and_cancel_only_in_sessions_of_their_own_resource(world_a):
    own, others = (
        service_create(
            actor=world_a.owner,
            name=f"Class of {stylist.name}",
            duration_minutes=60,
            price=Decimal("9"),
            capacity=4,
            requirements=[{"resource_type": "STAFF", "eligible_resources": [stylist]}],
        )
        for stylist in (world_a.stylist, world_a.stylist2)
    )
    taken = appointment_book(tenant=world_a.tenant, actor=world_a.staff, service=own,
                             customer=world_a.customer, starts_at=world_a.at(15))[0]  # fmt: skip
    check_appointment_action(user=world_a.staff, tenant=world_a.tenant, appointment=taken,
                             action="cancel")  # fmt: skip
    seat(world_a, others, world_a.other_customer, world_a.at(15))  # opened by the owner
    with pytest.raises(PermissionDenied):
        appointment_book(tenant=world_a.tenant, actor=world_a.staff, service=others,
                         customer=world_a.customer, starts_at=world_a.at(15))  # fmt: skip
    assert GroupSession.objects.get(service=others).seats_taken == 1
    theirs = Appointment.objects.get(service=others)
    with pytest.raises(PermissionDenied):
        check_appointment_action(user=world_a.staff, tenant=world_a.tenant, appointment=theirs,
                                 action="cancel")  # fmt: skip


def test_availability_leaves_out_the_start_of_a_full_session(world_a, api):
    service = group_service(world_a, capacity=2, rooms=[studio(world_a), studio(world_a, name="B")])
    for customer in customers(2):
        seat(world_a, service, customer, world_a.at(11))
    connection.set_schema_to_public()
    answer = api(HOST_A, world_a.owner).get(
        "/api/availability/",
        {"service": str(service.public_id), "start": str(world_a.day), "end": str(world_a.day),
         "step_minutes": 60},
    )  # fmt: skip
    starts = {s["starts_at"] for s in answer.json()["slots"]}
    assert world_a.at(11).isoformat() not in starts  # the other room is free, the class is full
    assert world_a.at(12).isoformat() in starts


def test_the_calendar_feed_shows_a_session_once_with_its_seats(world_a, yoga):
    service, room = yoga
    for customer in customers(2):
        seat(world_a, service, customer, world_a.at(11))
    feed = Calendar.from_ical(resource_calendar_feed(resource=room, host=HOST_A))
    (event,) = feed.walk("VEVENT")
    assert str(event["uid"]).startswith("session-")
    assert "2/3 seats" in str(event["summary"])
