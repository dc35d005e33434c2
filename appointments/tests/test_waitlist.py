"""The waitlist: join only what is full, first come first served offers when a place frees up,
a signed claim link that works once and expires, the kept seat passing on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from appointments.models import GroupSession, WaitlistEntry, WaitlistStatus
from appointments.services import appointment_book, appointment_transition
from appointments.services.offers import claim_path, claim_token
from appointments.services.waitlist import (
    waitlist_claim,
    waitlist_join,
    waitlist_leave,
    waitlist_offers_expire,
)
from appointments.tasks import expire_waitlist_offers
from appointments.tests.group import customers, group_service, one_to_one_service, studio
from conftest import HOST_A, HOST_B, connection
from core.exceptions import Conflict, NotFound
from notifications.models import OutboxEvent


def _book(world, service, customer, start):
    return appointment_book(tenant=world.tenant, actor=world.owner, service=service,
                            customer=customer, starts_at=start)[0]  # fmt: skip


def _join(world, service, customer, start):
    return waitlist_join(tenant=world.tenant, actor=world.owner, service=service,
                         customer=customer, starts_at=start)  # fmt: skip


def _cancel(world, appointment):
    appointment_transition(tenant=world.tenant, actor=world.owner, appointment=appointment,
                           to="CANCELLED")  # fmt: skip


@pytest.fixture
def full_class(world_a):
    """A class of two at 11:00, full; two customers waiting, in that order."""
    service = group_service(world_a, capacity=2, rooms=[studio(world_a)])
    seated = [_book(world_a, service, c, world_a.at(11)) for c in customers(2, "Seated")]
    first, second = customers(2, "Waiting")
    entries = [_join(world_a, service, c, world_a.at(11)) for c in (first, second)]
    return service, seated, entries


def test_only_a_full_slot_or_session_can_be_waited_for(world_a, full_class):
    service, _, _ = full_class
    with pytest.raises(Conflict) as free:
        _join(world_a, service, world_a.customer, world_a.at(15))
    assert free.value.code == "slot_available"
    lesson = one_to_one_service(world_a, rooms=[studio(world_a, name="Booth")])
    with pytest.raises(Conflict, match="free place"):
        _join(world_a, lesson, world_a.customer, world_a.at(15))
    _book(world_a, lesson, world_a.other_customer, world_a.at(15))
    assert _join(world_a, lesson, world_a.customer, world_a.at(15)).status == "WAITING"
    with pytest.raises(Conflict) as twice:
        _join(world_a, lesson, world_a.customer, world_a.at(15))
    assert twice.value.code == "already_waiting"


def test_a_freed_seat_is_offered_to_the_first_waiting_and_kept_for_them(world_a, full_class):
    service, seated, (first, second) = full_class
    _cancel(world_a, seated[0])
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("OFFERED", "WAITING")
    assert first.reserves_seat and first.offer_expires_at > timezone.now()
    session = GroupSession.objects.get(service=service)
    assert session.seats_taken == 2  # kept for the offer: nobody else can take it
    with pytest.raises(Conflict, match="full"):
        _book(world_a, service, world_a.customer, world_a.at(11))
    # The outbox is a public table: other tests' committed events may be there; this one's.
    offered = OutboxEvent.objects.get(
        kind="waitlist.offered", tenant=world_a.tenant, payload__id=str(first.public_id)
    )
    assert "/api/waitlist/claim/" in offered.payload["claim_url"]

    token = claim_token(tenant=world_a.tenant, entry=first)
    appointment = waitlist_claim(tenant=world_a.tenant, token=token)
    assert appointment.session_id == session.pk and appointment.customer == first.customer
    session.refresh_from_db()
    assert session.seats_taken == 2
    with pytest.raises(Conflict) as again:
        waitlist_claim(tenant=world_a.tenant, token=token)
    assert again.value.code == "offer_not_available"


def test_an_expired_offer_passes_the_seat_to_the_next_customer(world_a, full_class):
    service, seated, (first, second) = full_class
    _cancel(world_a, seated[0])
    token = claim_token(tenant=world_a.tenant, entry=first)
    later = timezone.now() + timedelta(hours=2)
    with pytest.raises(Conflict) as expired:
        waitlist_claim(tenant=world_a.tenant, token=token, now=later)
    assert expired.value.code == "offer_expired"
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("EXPIRED", "OFFERED")
    assert waitlist_offers_expire(tenant=world_a.tenant, now=later + timedelta(hours=2)) == 1
    session = GroupSession.objects.get(service=service)
    assert session.seats_taken == 1  # nobody left waiting: the seat went back to the session


def test_leaving_with_an_offer_passes_it_on(world_a, full_class):
    _, seated, (first, second) = full_class
    _cancel(world_a, seated[0])
    waitlist_leave(tenant=world_a.tenant, actor=world_a.owner, entry=first)
    second.refresh_from_db()
    assert second.status == WaitlistStatus.OFFERED


def test_a_claim_link_is_signed_for_its_own_tenant(world_a, full_class, tenant_b):
    _, seated, (first, _) = full_class
    _cancel(world_a, seated[0])
    with pytest.raises(NotFound):
        waitlist_claim(tenant=world_a.tenant, token=claim_token(tenant=tenant_b, entry=first))
    with pytest.raises(NotFound):
        waitlist_claim(tenant=world_a.tenant, token="forged")


def test_a_freed_one_to_one_slot_is_offered_and_claimed_like_a_booking(world_a):
    lesson = one_to_one_service(world_a, rooms=[studio(world_a, name="Booth")])
    taken = _book(world_a, lesson, world_a.other_customer, world_a.at(15))
    entry = _join(world_a, lesson, world_a.customer, world_a.at(15))
    _cancel(world_a, taken)
    entry.refresh_from_db()
    assert entry.status == "OFFERED" and not entry.reserves_seat
    booked = waitlist_claim(tenant=world_a.tenant, token=claim_token(tenant=world_a.tenant,
                                                                     entry=entry))  # fmt: skip
    assert booked.starts_at == world_a.at(15) and booked.allocations.count() == 1


def test_the_waitlist_api_join_list_claim_and_leave(world_a, full_class, api):
    service, seated, (first, _) = full_class
    connection.set_schema_to_public()
    mine = api(HOST_A, world_a.customer_user)
    joined = mine.post("/api/waitlist/", {"service": str(service.public_id),
                                          "starts_at": world_a.at(11).isoformat()},
                       format="json")  # fmt: skip
    assert joined.status_code == 201, joined.json()
    assert joined.json()["customer"] == str(world_a.customer.public_id)
    listed = mine.get("/api/waitlist/").json()["results"]
    assert [e["id"] for e in listed] == [joined.json()["id"]]  # a customer sees its own only
    assert len(api(HOST_A, world_a.owner).get("/api/waitlist/").json()["results"]) == 3

    connection.set_tenant(world_a.tenant)
    _cancel(world_a, seated[0])
    connection.set_schema_to_public()
    shown = api(HOST_A, world_a.owner).get(f"/api/waitlist/{first.public_id}/").json()
    assert shown["status"] == "OFFERED" and shown["claim_path"].startswith("/api/waitlist/claim/")
    anonymous = api(HOST_A)
    claimed = anonymous.post(shown["claim_path"], format="json")
    assert claimed.status_code == 201, claimed.json()
    assert claimed.json()["customer"] == str(first.customer.public_id)
    again = anonymous.post(shown["claim_path"], format="json")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "offer_not_available")
    elsewhere = api(HOST_B).post(shown["claim_path"], format="json")
    assert elsewhere.status_code == 404

    left = mine.delete(f"/api/waitlist/{joined.json()['id']}/")
    assert left.status_code == 204
    assert mine.delete(f"/api/waitlist/{joined.json()['id']}/").status_code == 400
    connection.set_tenant(world_a.tenant)
    assert WaitlistEntry.objects.get(public_id=joined.json()["id"]).status == "LEFT"
    assert claim_path(tenant=world_a.tenant, entry=first).startswith("/api/waitlist/claim/")


def test_the_periodic_task_expires_the_offers_whose_time_is_up(world_a, full_class, settings):
    _, seated, (first, second) = full_class
    settings.WAITLIST_OFFER_MINUTES = 0  # offers expire as they are made
    _cancel(world_a, seated[0])
    assert expire_waitlist_offers()["alpha"] == 1
    connection.set_tenant(world_a.tenant)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("EXPIRED", "OFFERED")
