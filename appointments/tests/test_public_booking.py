"""The public booking page over HTTP: a guest books without an account (a held slot, intake
answers), then follows the signed manage links to view, reschedule and cancel, under the
business's policy; links that are tampered with, expired, used, for another purpose or another
business are refused; the switch and the rate limits hold."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.cache import cache
from django.db.models.functions import Now

from appointments.manage_links import manage_token
from appointments.models import Allocation, Appointment, SlotHold
from billing.models import Charge
from catalog.models import Service
from conftest import HOST_A, HOST_B, connection
from core.models import AuditEvent
from customers.models import Customer
from notifications.models import Delivery, OutboxEvent
from notifications.outbox import event_dispatch
from notifications.sending import deliveries_send
from tenancy.models import Tenant
from tenancy.selectors import routes_changed

PUBLIC_GETS = ["/api/public/services/", "/api/public/availability/"]
PUBLIC_POSTS = [
    "/api/public/holds/",
    "/api/public/bookings/",
    "/api/public/manage/",
    "/api/public/manage/cancel/",
    "/api/public/manage/reschedule/",
]
INTAKE = {
    "type": "object",
    "properties": {
        "allergies": {"type": "string", "maxLength": 200},
        "hair": {"type": "string", "enum": ["short", "long"]},
        "first_visit": {"type": "boolean"},
    },
    "required": ["allergies"],
    "additionalProperties": False,
}


def switch_on(tenant: Tenant, **policy: object) -> None:
    Tenant.objects.filter(pk=tenant.pk).update(public_booking_enabled=True, **policy)
    routes_changed(tenant.domains.values_list("domain", flat=True))
    connection.set_tenant(Tenant.objects.get(pk=tenant.pk))


def guest(world, start=None, **extra):
    body = {
        "service": str(world.cut.public_id),
        "starts_at": (start or world.at(14)).isoformat(),
        "name": "Gina Guest",
        "email": "gina@example.com",
        "phone": "+44 20 7946 0000",
    }
    body.update(extra)
    return body


@pytest.fixture
def public_a(world_a):
    switch_on(world_a.tenant)
    return world_a


def test_public_endpoints_answer_404_while_public_booking_is_off(world_a, api):
    client = api(HOST_A)
    for path in PUBLIC_GETS:
        response = client.get(path, {"service": str(world_a.cut.public_id)})
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
    for path in PUBLIC_POSTS:
        assert client.post(path, {}, format="json").status_code == 404, path


def test_a_guest_books_a_held_slot_then_reschedules_and_cancels_through_its_links(public_a, api):
    w = public_a
    client = api(HOST_A)
    services = client.get("/api/public/services/").json()["results"]
    assert {s["name"] for s in services} == {"Haircut", "Treatment"}
    slots = client.get(
        "/api/public/availability/",
        {"service": str(w.cut.public_id), "start": str(w.day), "end": str(w.day)},
    ).json()["slots"]
    assert w.at(14).isoformat() in {s["starts_at"] for s in slots}

    hold = client.post(
        "/api/public/holds/",
        {"service": str(w.cut.public_id), "starts_at": w.at(14).isoformat()},
        format="json",
    )
    assert hold.status_code == 201, hold.json()
    booked = client.post("/api/public/bookings/", guest(w, hold=hold.json()["id"]), format="json")
    assert booked.status_code == 201, booked.json()
    body = booked.json()
    assert body["status"] in ("PENDING", "CONFIRMED") and body["price"] == "40.00"
    assert [r["id"] for r in body["resources"]] == [r["id"] for r in hold.json()["resources"]]
    assert not SlotHold.objects.exists()  # the hold became the booking
    links = body["manage"]
    assert set(links) == {"view", "cancel", "reschedule", "expires_at"}
    assert links["view"]["url"].startswith("https://alpha.localhost/booking/manage/view#token=")

    viewed = client.post("/api/public/manage/", {"token": links["view"]["token"]}, format="json")
    assert viewed.status_code == 200 and viewed.json()["id"] == body["id"]

    moved = client.post(
        "/api/public/manage/reschedule/",
        {"token": links["reschedule"]["token"], "starts_at": w.at(16).isoformat()},
        format="json",
    )
    assert moved.status_code == 200, moved.json()
    assert datetime.fromisoformat(moved.json()["starts_at"]) == w.at(16)
    for purpose in ("view", "cancel", "reschedule"):  # every earlier link is dead
        path = {"view": "", "cancel": "cancel/", "reschedule": "reschedule/"}[purpose]
        old = client.post(
            f"/api/public/manage/{path}",
            {"token": links[purpose]["token"], "starts_at": w.at(17).isoformat()},
            format="json",
        )
        assert (old.status_code, old.json()["error"]["code"]) == (404, "invalid_link"), purpose

    fresh = moved.json()["manage"]
    cancel = {"token": fresh["cancel"]["token"]}
    cancelled = client.post("/api/public/manage/cancel/", cancel, format="json")
    assert cancelled.status_code == 200, cancelled.json()
    assert (cancelled.json()["status"], cancelled.json()["late_fee"]) == ("CANCELLED", "0.00")
    again = client.post("/api/public/manage/cancel/", cancel, format="json")
    assert (again.status_code, again.json()["error"]["code"]) == (404, "invalid_link")
    view = client.post("/api/public/manage/", {"token": fresh["view"]["token"]}, format="json")
    assert view.status_code == 404
    assert not Allocation.objects.filter(appointment__public_id=body["id"], is_live=True).exists()
    # The tokens travelled in bodies: no audit row (path, details) holds one.
    connection.set_schema_to_public()
    trail = " ".join(str((e.request_path, e.details)) for e in AuditEvent.objects.all())
    assert "/api/public/manage/" in trail
    for token in [*(links[p]["token"] for p in ("view", "cancel", "reschedule")), cancel["token"]]:
        assert token not in trail


def test_tampered_expired_foreign_and_other_purpose_links_are_refused(public_a, world_b, api):
    w = public_a
    switch_on(world_b.tenant)
    connection.set_tenant(w.tenant)
    booked = api(HOST_A).post("/api/public/bookings/", guest(w), format="json").json()
    token = booked["manage"]["cancel"]["token"]
    tampered = token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB")
    past = Appointment.objects.create(
        customer=w.customer, service=w.cut, starts_at=w.at(9, days=-9),
        ends_at=w.at(10, days=-9), price=Decimal(40), status="CONFIRMED",
    )  # fmt: skip
    expired = manage_token(tenant=w.tenant, appointment=past, purpose="cancel")
    refused = {
        "tampered": (HOST_A, "/api/public/manage/cancel/", tampered),
        "expired": (HOST_A, "/api/public/manage/cancel/", expired),
        "another purpose": (
            HOST_A,
            "/api/public/manage/cancel/",
            booked["manage"]["view"]["token"],
        ),
        "another business": (HOST_B, "/api/public/manage/cancel/", token),
        "not a token": (HOST_A, "/api/public/manage/", "x" * 40),
    }
    for why, (host, path, sent) in refused.items():
        answer = api(host).post(path, {"token": sent}, format="json")
        assert (answer.status_code, answer.json()["error"]["code"]) == (404, "invalid_link"), why
    connection.set_tenant(w.tenant)
    assert Appointment.objects.get(public_id=booked["id"]).status != "CANCELLED"
    assert Appointment.objects.get(pk=past.pk).status == "CONFIRMED"


def test_a_guest_cancelling_inside_the_window_pays_the_late_fee(world_a, api):
    switch_on(world_a.tenant, cancellation_window_hours=24 * 30, late_cancellation_fee_percent=50)
    client = api(HOST_A)
    booked = client.post("/api/public/bookings/", guest(world_a), format="json").json()
    cancel = {"token": booked["manage"]["cancel"]["token"]}
    cancelled = client.post("/api/public/manage/cancel/", cancel, format="json")
    assert cancelled.status_code == 200
    assert cancelled.json()["late_fee"] == "20.00"
    fee = Charge.objects.get(appointment__public_id=booked["id"])
    assert (fee.kind, fee.amount) == ("LATE_CANCELLATION", Decimal("20.00"))


def test_rescheduling_inside_the_window_is_refused_for_guests_and_customers(world_a, api):
    switch_on(world_a.tenant, cancellation_window_hours=24 * 30)
    booked = api(HOST_A).post("/api/public/bookings/", guest(world_a), format="json").json()
    moved = api(HOST_A).post(
        "/api/public/manage/reschedule/",
        {"token": booked["manage"]["reschedule"]["token"], "starts_at": world_a.at(16).isoformat()},
        format="json",
    )
    assert (moved.status_code, moved.json()["error"]["code"]) == (403, "reschedule_window_closed")
    own = api(HOST_A, world_a.customer_user).post(
        f"/api/appointments/{world_a.appointment.public_id}/reschedule/",
        {"starts_at": world_a.at(16).isoformat()},
        format="json",
    )
    assert (own.status_code, own.json()["error"]["code"]) == (403, "reschedule_window_closed")


def test_a_signed_in_customer_reschedules_its_own_appointment_only(world_a, api):
    client = api(HOST_A, world_a.customer_user)
    moved = client.post(
        f"/api/appointments/{world_a.appointment.public_id}/reschedule/",
        {"starts_at": world_a.at(15).isoformat()},
        format="json",
    )
    assert moved.status_code == 200, moved.json()
    assert datetime.fromisoformat(moved.json()["starts_at"]) == world_a.at(15)
    other = client.post(
        f"/api/appointments/{world_a.other_appointment.public_id}/reschedule/",
        {"starts_at": world_a.at(15).isoformat()},
        format="json",
    )
    assert other.status_code == 404


def test_a_guest_is_matched_by_email_with_the_same_answer_either_way(public_a, api):
    w = public_a
    client = api(HOST_A)
    known = client.post(
        "/api/public/bookings/", guest(w, email="C@X.test", name="Someone"), format="json"
    )
    new = client.post(
        "/api/public/bookings/", guest(w, start=w.at(15), email="new@example.com"), format="json"
    )
    assert (known.status_code, new.status_code) == (201, 201)
    assert set(known.json()) == set(new.json())
    assert "Cara" not in known.content.decode() and "customer" not in known.json()
    assert Appointment.objects.get(public_id=known.json()["id"]).customer == w.customer
    created = Appointment.objects.get(public_id=new.json()["id"]).customer
    assert (created.name, created.email) == ("Gina Guest", "new@example.com")
    assert Customer.objects.filter(email__iexact="c@x.test").count() == 1


def test_intake_answers_are_validated_and_shown_to_staff_and_the_customer_only(public_a, api):
    w = public_a
    Service.objects.filter(pk=w.cut.pk).update(intake_schema=INTAKE)
    client = api(HOST_A)
    missing = client.post("/api/public/bookings/", guest(w, intake={}), format="json")
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "invalid_intake"
    assert set(missing.json()["error"]["fields"]) == {"intake.allergies"}
    wrong = client.post(
        "/api/public/bookings/",
        guest(w, intake={"allergies": "none", "hair": "purple", "shoe": 42}),
        format="json",
    )
    assert set(wrong.json()["error"]["fields"]) == {"intake.hair", "intake.shoe"}
    answers = {"allergies": "nuts", "hair": "long"}
    booked = client.post(
        "/api/public/bookings/", guest(w, email="c@x.test", intake=answers), format="json"
    )
    assert booked.status_code == 201 and booked.json()["intake_answers"] == answers
    path = f"/api/appointments/{booked.json()['id']}/"
    assert api(HOST_A, w.staff).get(path).json()["intake_answers"] == answers
    assert api(HOST_A, w.customer_user).get(path).json()["intake_answers"] == answers
    other = Customer.objects.get(pk=w.other_customer.pk)
    assert api(HOST_A, other.user).get(path).status_code == 404
    listed = api(HOST_A, other.user).get("/api/appointments/").content.decode()
    assert "nuts" not in listed


def test_a_service_refuses_an_intake_schema_that_is_not_one(world_a, api):
    owner = api(HOST_A, world_a.owner)
    path = f"/api/services/{world_a.cut.public_id}/"
    bad = owner.patch(path, {"intake_schema": {"type": "object", "required": 3}}, format="json")
    assert bad.status_code == 400 and "intake_schema" in bad.json()["error"]["fields"]
    good = owner.patch(path, {"intake_schema": INTAKE}, format="json")
    assert good.status_code == 200 and good.json()["intake_schema"] == INTAKE


def test_a_hold_blocks_the_slot_for_everyone_else_and_converts(public_a, api):
    w = public_a
    hold_body = {"service": str(w.treatment.public_id), "starts_at": w.at(14).isoformat()}
    client = api(HOST_A)
    held = client.post("/api/public/holds/", hold_body, format="json")
    assert held.status_code == 201, held.json()
    second = client.post("/api/public/holds/", hold_body, format="json")
    assert (second.status_code, second.json()["error"]["code"]) == (409, "resource_busy")
    staff_booking = api(HOST_A, w.owner).post(
        "/api/appointments/",
        {"service": str(w.treatment.public_id), "customer": str(w.customer.public_id),
         "starts_at": w.at(14).isoformat()},
        format="json",
    )  # fmt: skip
    assert staff_booking.status_code == 409
    slots = client.get(
        "/api/public/availability/",
        {"service": str(w.treatment.public_id), "start": str(w.day), "end": str(w.day)},
    ).json()["slots"]
    assert w.at(14).isoformat() not in {s["starts_at"] for s in slots}
    no_hold = client.post(
        "/api/public/bookings/", guest(w, service=str(w.treatment.public_id)), format="json"
    )
    assert no_hold.status_code == 409  # the visitor without the hold cannot take the slot
    booked = client.post(
        "/api/public/bookings/",
        guest(w, service=str(w.treatment.public_id), hold=held.json()["id"]),
        format="json",
    )
    assert booked.status_code == 201, booked.json()
    reused = client.post(
        "/api/public/bookings/",
        guest(w, service=str(w.treatment.public_id), hold=held.json()["id"]),
        format="json",
    )
    assert reused.status_code == 400 and "hold" in reused.json()["error"]["fields"]


def test_an_expired_hold_lapses_by_itself(public_a, api):
    w = public_a
    hold_body = {"service": str(w.treatment.public_id), "starts_at": w.at(14).isoformat()}
    client = api(HOST_A)
    assert client.post("/api/public/holds/", hold_body, format="json").status_code == 201
    # Time passes: the hold's five minutes are over (no job runs, no row is deleted).
    Allocation.objects.filter(hold__isnull=False).update(
        live_from=Now() - timedelta(minutes=10), expires_at=Now() - timedelta(minutes=5)
    )
    SlotHold.objects.update(expires_at=Now() - timedelta(minutes=5))
    again = client.post("/api/public/holds/", hold_body, format="json")
    assert again.status_code == 201, again.json()
    assert Allocation.objects.filter(hold__isnull=False).count() == 4  # 2 dead + 2 live rows


def test_public_endpoints_have_their_own_rate_limit(public_a, api, settings):
    settings.PUBLIC_READ_THROTTLE_RATE = "2/min"
    cache.delete("throttle_public_read_127.0.0.1")  # earlier tests' requests from this address
    client = api(HOST_A)
    statuses = [client.get("/api/public/services/").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    refused = client.get("/api/public/services/")
    assert refused.json()["error"]["code"] == "throttled" and int(refused["Retry-After"]) > 0


def test_the_confirmation_email_goes_through_the_outbox_with_working_manage_links(public_a, api):
    w = public_a
    booked = api(HOST_A).post("/api/public/bookings/", guest(w), format="json")
    assert booked.status_code == 201
    connection.set_schema_to_public()
    event = OutboxEvent.objects.get(kind="appointment.created", payload__id=booked.json()["id"])
    assert "token" not in str(event.payload)  # webhooks never see the links
    event_dispatch(event.pk)
    deliveries_send()
    (message,) = [m for m in mail.outbox if m.to == ["gina@example.com"]]
    assert "Haircut" in message.subject
    links = dict(re.findall(r"- (view|reschedule|cancel) it: (\S+)", message.body))
    assert set(links) == {"view", "reschedule", "cancel"}
    token = links["cancel"].split("#token=", 1)[1]
    cancelled = api(HOST_A).post("/api/public/manage/cancel/", {"token": token}, format="json")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "CANCELLED"
    # A booking by a signed-in user is not a guest's: no confirmation of this kind.
    connection.set_schema_to_public()
    owners = OutboxEvent.objects.filter(kind="appointment.created", tenant=event.tenant).exclude(
        pk=event.pk
    )
    for other in owners:
        event_dispatch(other.pk)
    assert not Delivery.objects.filter(plugin="booking-confirmation").exclude(event=event).exists()


def test_the_owner_switches_public_booking_in_the_tenant_settings(world_a, api):
    owner, nobody = api(HOST_A, world_a.owner), api(HOST_A)
    assert owner.get("/api/tenant/settings/").json()["public_booking_enabled"] is False
    assert nobody.get("/api/public/services/").status_code == 404
    switched = owner.patch("/api/tenant/settings/", {"public_booking_enabled": True}, format="json")
    assert switched.status_code == 200 and switched.json()["public_booking_enabled"] is True
    assert nobody.get("/api/public/services/").status_code == 200
    owner.patch("/api/tenant/settings/", {"public_booking_enabled": False}, format="json")
    assert nobody.get("/api/public/services/").status_code == 404


def test_a_resource_held_only_by_visitors_can_still_be_deleted(public_a, api):
    w = public_a
    held = api(HOST_A).post(
        "/api/public/holds/",
        {"service": str(w.treatment.public_id), "starts_at": w.at(15).isoformat()},
        format="json",
    )
    assert held.status_code == 201
    room = w.room
    Appointment.objects.filter(allocations__resource=room).delete()
    Allocation.objects.filter(resource=room, hold__isnull=True).delete()
    assert api(HOST_A, w.owner).delete(f"/api/resources/{room.public_id}/").status_code == 204
