from datetime import timedelta
from decimal import Decimal

import pytest

from appointments.models import Allocation, Appointment
from billing.models import Charge
from conftest import HOST_A
from customers.models import Customer


def booking(world, start=None, **extra):
    body = {
        "service": str(world.cut.public_id),
        "customer": str(world.customer.public_id),
        "starts_at": (start or world.at(14)).isoformat(),
    }
    body.update(extra)
    return body


def test_owner_books_and_free_resource_is_picked(world_a, api):
    response = api(HOST_A, world_a.owner).post(
        "/api/appointments/", booking(world_a, start=world_a.at(10, 30)), format="json"
    )
    assert response.status_code == 409  # both stylists are busy 10:00-11:00
    assert response.json()["error"]["code"] == "resource_busy"
    response = api(HOST_A, world_a.owner).post(
        "/api/appointments/", booking(world_a, start=world_a.at(11)), format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "PENDING" and body["price"] == "40.00"
    assert [r["name"] for r in body["resources"]] == ["Ana (stylist)"]


def test_busy_named_resource_is_409_naming_it(world_a, api):
    response = api(HOST_A, world_a.owner).post(
        "/api/appointments/",
        booking(world_a, start=world_a.at(10, 30), resources=[str(world_a.stylist.public_id)]),
        format="json",
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "resource_busy" and "Ana (stylist)" in error["message"]
    assert error["fields"]["resources"] == [
        f"'Ana (stylist)' ({world_a.stylist.public_id}) is booked or blocked then."
    ]


def test_idempotency_key_makes_a_retry_return_the_first_booking(world_a, api):
    client = api(HOST_A, world_a.owner)
    first = client.post(
        "/api/appointments/", booking(world_a), format="json", HTTP_IDEMPOTENCY_KEY="retry-1"
    )
    again = client.post(
        "/api/appointments/", booking(world_a), format="json", HTTP_IDEMPOTENCY_KEY="retry-1"
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    other = client.post(
        "/api/appointments/",
        booking(world_a, start=world_a.at(16)),
        format="json",
        HTTP_IDEMPOTENCY_KEY="retry-1",
    )
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert Appointment.objects.filter(idempotency_key="retry-1").count() == 1


def test_customer_books_for_itself_and_sees_only_its_own(world_a, api):
    client = api(HOST_A, world_a.customer_user)
    body = booking(world_a)
    del body["customer"]
    created = client.post("/api/appointments/", body, format="json")
    assert created.status_code == 201
    assert created.json()["customer"] == str(world_a.customer.public_id)
    listed = client.get("/api/appointments/").json()["results"]
    assert {a["customer"] for a in listed} == {str(world_a.customer.public_id)}
    other = client.get(f"/api/appointments/{world_a.other_appointment.public_id}/")
    assert other.status_code == 404
    assert other.json()["error"]["code"] == "not_found"
    assert client.get("/api/customers/").json()["count"] == 1


def test_customer_cannot_book_for_another_customer(world_a, api):
    response = api(HOST_A, world_a.customer_user).post(
        "/api/appointments/",
        booking(world_a) | {"customer": str(world_a.other_customer.public_id)},
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert Appointment.objects.count() == 3


def test_customer_account_without_record_gets_one_on_first_booking(world_a, api, make_user):
    newcomer = make_user("CUSTOMER", tenant=world_a.tenant, first_name="Nia", last_name="New")
    body = booking(world_a)
    del body["customer"]
    response = api(HOST_A, newcomer).post("/api/appointments/", body, format="json")
    assert response.status_code == 201
    assert Customer.objects.get(user_id=newcomer.pk).name == "Nia New"


def test_customer_cancels_own_but_not_anothers_appointment(world_a, api):
    client = api(HOST_A, world_a.customer_user)
    url = "/api/appointments/{}/cancel/"
    refused = client.post(url.format(world_a.other_appointment.public_id))
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "not_found"
    assert client.post(url.format(world_a.appointment.public_id)).status_code == 200
    assert not Allocation.objects.filter(appointment=world_a.appointment, is_live=True).exists()


def test_customer_cannot_confirm_or_complete(world_a, api):
    client = api(HOST_A, world_a.customer_user)
    for verb in ("confirm", "complete", "no-show"):
        response = client.post(f"/api/appointments/{world_a.appointment.public_id}/{verb}/")
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"


def test_staff_changes_own_appointments_only(world_a, api):
    client = api(HOST_A, world_a.staff)
    own = client.post(f"/api/appointments/{world_a.appointment.public_id}/complete/")
    assert own.status_code == 200 and own.json()["status"] == "COMPLETED"
    other = client.post(f"/api/appointments/{world_a.other_appointment.public_id}/confirm/")
    assert other.status_code == 403
    assert other.json()["error"]["code"] == "permission_denied"
    assert (
        client.get(f"/api/appointments/{world_a.other_appointment.public_id}/").status_code == 200
    )


def test_staff_reads_but_does_not_write_customers(world_a, api):
    client = api(HOST_A, world_a.staff)
    assert client.get("/api/customers/").json()["count"] == 2
    refused = client.post("/api/customers/", {"name": "X"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"


def test_lifecycle_and_illegal_transition_over_the_api(world_a, api):
    client = api(HOST_A, world_a.owner)
    url = f"/api/appointments/{world_a.other_appointment.public_id}/"
    early = client.post(url + "complete/")
    assert early.status_code == 400  # PENDING cannot complete
    assert early.json()["error"]["code"] == "invalid_transition"
    assert client.post(url + "confirm/").json()["status"] == "CONFIRMED"
    assert client.post(url + "no-show/").json()["status"] == "NO_SHOW"
    refused = client.post(url + "cancel/")
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "invalid_transition"


def test_late_cancellation_over_the_api_charges_the_fee(world_a, api):
    client = api(HOST_A, world_a.owner)
    settings = client.patch(
        "/api/billing/settings/",
        {"cancellation_window_hours": 24 * 30, "late_cancellation_fee_percent": "50"},
        format="json",
    )
    assert settings.status_code == 200
    response = client.post(f"/api/appointments/{world_a.appointment.public_id}/cancel/")
    assert response.status_code == 200
    fee = Charge.objects.get(appointment=world_a.appointment, kind="LATE_CANCELLATION")
    assert fee.amount == Decimal("20.00")


def test_charges_payment_status_and_revenue_summary(world_a, api):
    client = api(HOST_A, world_a.owner)
    paid = client.patch(
        f"/api/charges/{world_a.charge.public_id}/", {"status": "PAID"}, format="json"
    )
    assert paid.status_code == 200 and paid.json()["paid_at"]
    again = client.patch(
        f"/api/charges/{world_a.charge.public_id}/", {"status": "VOID"}, format="json"
    )
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "invalid_transition"
    summary = client.get("/api/billing/summary/").json()
    assert (summary["paid"], summary["outstanding"]) == ("40.00", "0.00")
    customer = client.get(f"/api/customers/{world_a.customer.public_id}/").json()
    assert customer["total_spend"] == "40.00"
    assert customer["last_visit"] == world_a.at(9, days=-30).isoformat().replace("+00:00", "Z")


def test_manager_has_no_billing(world_a, api):
    client = api(HOST_A, world_a.manager)
    for path in ("/api/billing/summary/", "/api/billing/settings/", "/api/charges/"):
        refused = client.get(path)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "permission_denied"


def test_reschedule_over_the_api(world_a, api):
    client = api(HOST_A, world_a.owner)
    url = f"/api/appointments/{world_a.appointment.public_id}/reschedule/"
    moved = client.post(url, {"starts_at": world_a.at(15).isoformat()}, format="json")
    assert moved.status_code == 200
    assert moved.json()["starts_at"] == world_a.at(15).isoformat().replace("+00:00", "Z")
    clash = client.post(
        url,
        {"starts_at": world_a.at(10).isoformat(), "resources": [str(world_a.stylist2.public_id)]},
        format="json",
    )
    assert clash.status_code == 409
    assert clash.json()["error"]["code"] == "resource_busy"


UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"service": UNKNOWN}, "service"),
        ({"service": "not-a-uuid"}, "service"),
        ({"customer": 42}, "customer"),
        ({"starts_at": "2026-05-04T10:00:00"}, "starts_at"),  # naive
        ({"starts_at": "tomorrow"}, "starts_at"),
        ({"resources": [UNKNOWN]}, "resources"),
        ({"resources": "x"}, "resources"),
        ({"price": "-1.00"}, "price"),
        ({"price": "abc"}, "price"),
    ],
)
def test_bad_booking_input_is_400_with_field_errors_and_writes_nothing(world_a, api, change, field):
    before = (Appointment.objects.count(), Allocation.objects.count())
    response = api(HOST_A, world_a.owner).post(
        "/api/appointments/", booking(world_a) | change, format="json"
    )
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["code"] == "invalid"
    fields = response.json()["error"]["fields"]
    # Nested errors are flattened to dotted names: requirements.0.eligible_resources.
    assert any(name == field or name.startswith(f"{field}.") for name in fields), fields
    assert (Appointment.objects.count(), Allocation.objects.count()) == before


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/services/", {"name": "X", "duration_minutes": -5, "price": "1"}, "duration_minutes"),
        ("/api/services/", {"name": "X", "duration_minutes": 0, "price": "1"}, "duration_minutes"),
        ("/api/services/", {"name": "X", "duration_minutes": 30, "price": "-1"}, "price"),
        ("/api/services/", {"name": "X", "duration_minutes": "1h", "price": "1"}, "duration_minutes"),  # noqa: E501
        (
            "/api/services/",
            {
                "name": "X", "duration_minutes": 30, "price": "1",
                "requirements": [{"resource_type": "ROOM", "eligible_resources": [UNKNOWN]}],
            },
            "requirements",
        ),
        ("/api/resources/", {"name": "R", "type": "SPACESHIP"}, "type"),
        ("/api/resources/", {"name": "R", "type": "ROOM", "timezone": "Mars/Olympus"}, "timezone"),
        (
            "/api/resources/",
            {"name": "R", "type": "ROOM", "working_hours": [
                {"weekday": 1, "start_time": "17:00", "end_time": "09:00"}]},
            "working_hours",
        ),
        ("/api/resources/", {"name": "R", "type": "ROOM", "working_hours": [
            {"weekday": 9, "start_time": "09:00", "end_time": "17:00"}]}, "working_hours"),
        ("/api/customers/", {"name": "C", "email": "not-an-email"}, "email"),
        ("/api/customers/", {"name": "C", "tags": "vip"}, "tags"),
        ("/api/customers/", {"name": "C", "user": UNKNOWN}, "user"),
        ("/api/date-overrides/", {"resource": UNKNOWN, "date": "2026-12-24"}, "resource"),
        ("/api/billing/settings/", {"cancellation_window_hours": -1}, "cancellation_window_hours"),
    ],
)  # fmt: skip
def test_bad_input_everywhere_is_400_with_field_errors(world_a, api, url, body, field):
    client = api(HOST_A, world_a.owner)
    method = client.patch if url.startswith("/api/billing") else client.post
    response = method(url, body, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["code"] == "invalid"
    fields = response.json()["error"]["fields"]
    # Nested errors are flattened to dotted names: requirements.0.eligible_resources.
    assert any(name == field or name.startswith(f"{field}.") for name in fields), fields


def test_blocker_end_before_start_and_naive_times_are_400(world_a, api):
    client = api(HOST_A, world_a.owner)
    base = {"resource": str(world_a.room.public_id), "title": "x"}
    inverted = client.post(
        "/api/blockers/",
        base | {"starts_at": world_a.at(15).isoformat(), "ends_at": world_a.at(14).isoformat()},
        format="json",
    )
    assert inverted.status_code == 400 and "ends_at" in inverted.json()["error"]["fields"]
    assert inverted.json()["error"]["code"] == "invalid"
    naive = client.post(
        "/api/blockers/",
        base | {"starts_at": "2026-12-01T10:00:00", "ends_at": "2026-12-01T11:00:00"},
        format="json",
    )
    assert naive.status_code == 400 and "starts_at" in naive.json()["error"]["fields"]
    assert naive.json()["error"]["code"] == "invalid"


def test_blocker_over_an_appointment_is_409(world_a, api):
    response = api(HOST_A, world_a.owner).post(
        "/api/blockers/",
        {
            "resource": str(world_a.stylist.public_id),
            "starts_at": world_a.at(10, 30).isoformat(),
            "ends_at": (world_a.at(10, 30) + timedelta(hours=2)).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 409 and "Ana" in response.json()["error"]["message"]
    assert response.json()["error"]["code"] == "resource_busy"


def test_service_with_two_requirements_is_created_through_the_api(world_a, api):
    response = api(HOST_A, world_a.manager).post(
        "/api/services/",
        {
            "name": "Colour", "duration_minutes": 90, "price": "120.00",
            "buffer_after_minutes": 15,
            "requirements": [
                {"resource_type": "STAFF", "eligible_resources": [str(world_a.stylist.public_id)]},
                {"resource_type": "ROOM", "eligible_resources": [str(world_a.room.public_id)]},
            ],
        },
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    assert [r["resource_type"] for r in response.json()["requirements"]] == ["STAFF", "ROOM"]


def test_resources_beyond_the_tier_limit_are_refused(world_a, api):
    world_a.tenant.subscription_tier = "FREE"  # 5 resources; the world has 3
    world_a.tenant.save()
    client = api(HOST_A, world_a.owner)
    for name in ("R4", "R5"):
        assert (
            client.post(
                "/api/resources/", {"name": name, "type": "ROOM"}, format="json"
            ).status_code
            == 201
        )
    refused = client.post("/api/resources/", {"name": "R6", "type": "ROOM"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "tier_limit_exceeded"


def test_staff_cannot_move_someone_elses_blocker_onto_their_own_resource(world_a, api):
    response = api(HOST_A, world_a.staff).patch(
        f"/api/blockers/{world_a.blocker.public_id}/",
        {"resource": str(world_a.stylist.public_id)},
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    world_a.blocker.refresh_from_db()
    assert world_a.blocker.resource_id == world_a.room.pk


def test_appointment_filters(world_a, api):
    client = api(HOST_A, world_a.owner)

    def ids(**query):
        return {a["id"] for a in client.get("/api/appointments/", query).json()["results"]}

    mine, other = str(world_a.appointment.public_id), str(world_a.other_appointment.public_id)
    assert ids(resource=str(world_a.stylist.public_id)) == {mine}
    assert ids(customer=str(world_a.other_customer.public_id)) == {other}
    assert ids(status="CONFIRMED") == {mine}
    assert ids(status=["CONFIRMED", "PENDING"]) == {mine, other}
    day = {"start": world_a.at(0).isoformat(), "end": world_a.at(23).isoformat()}
    assert ids(**day) == {mine, other}
    assert ids(service=str(world_a.treatment.public_id)) == set()
    bad = client.get("/api/appointments/", {"status": "LOST"})
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid" and "status" in bad.json()["error"]["fields"]


def test_lists_are_paginated(world_a, api):
    body = api(HOST_A, world_a.owner).get("/api/resources/", {"page_size": 2}).json()
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]


def test_service_with_a_wrongly_typed_requirement_is_400_and_not_half_written(world_a, api):
    from catalog.models import Service, ServiceRequirement

    before = (Service.objects.count(), ServiceRequirement.objects.count())
    response = api(HOST_A, world_a.owner).post(
        "/api/services/",
        {
            "name": "Odd", "duration_minutes": 30, "price": "10.00",
            "requirements": [
                {"resource_type": "STAFF", "eligible_resources": [str(world_a.stylist.public_id)]},
                {"resource_type": "ROOM", "eligible_resources": [str(world_a.stylist.public_id)]},
            ],
        },
        format="json",
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert "requirements" in response.json()["error"]["fields"]
    assert (Service.objects.count(), ServiceRequirement.objects.count()) == before


def test_resource_update_with_bad_hours_changes_nothing(world_a, api):
    response = api(HOST_A, world_a.owner).patch(
        f"/api/resources/{world_a.room.public_id}/",
        {"name": "Renamed", "working_hours": [{"weekday": 1, "start_time": "9", "end_time": "x"}]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert "working_hours.0.start_time" in response.json()["error"]["fields"]
    world_a.room.refresh_from_db()
    assert world_a.room.name == "Room 1" and world_a.room.working_hours.count() == 7


def test_staff_booking_without_naming_a_resource_gets_their_own(world_a, api):
    body = booking(world_a, start=world_a.at(11))  # both stylists free; Ana is the staff's
    own = api(HOST_A, world_a.staff).post("/api/appointments/", body, format="json")
    assert own.status_code == 201
    assert [r["id"] for r in own.json()["resources"]] == [str(world_a.stylist.public_id)]
    taken = api(HOST_A, world_a.staff).post(
        "/api/appointments/", booking(world_a, start=world_a.at(11, 30)), format="json"
    )
    assert taken.status_code == 403  # only Ben is free, and staff book their own time
    assert taken.json()["error"]["code"] == "permission_denied"


def test_blocked_customer_cannot_be_booked(world_a, api):
    Customer.objects.filter(pk=world_a.customer.pk).update(status="BLOCKED")
    response = api(HOST_A, world_a.owner).post(
        "/api/appointments/", booking(world_a), format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert "customer" in response.json()["error"]["fields"]


def test_staff_cannot_set_a_price_when_booking(world_a, api):
    client = api(HOST_A, world_a.staff)
    body = booking(world_a, start=world_a.at(11), resources=[str(world_a.stylist.public_id)])
    refused = client.post("/api/appointments/", {**body, "price": "0.00"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "price_not_allowed"
    assert not Appointment.objects.filter(starts_at=world_a.at(11)).exists()
    # Echoing the service's own price sets nothing, and leaving it out books at that price.
    echoed = client.post("/api/appointments/", {**body, "price": "40.00"}, format="json")
    assert (echoed.status_code, echoed.json()["price"]) == (201, "40.00")


def test_staff_cannot_cancel_and_rebook_at_another_price(world_a, api):
    client = api(HOST_A, world_a.staff)
    own = f"/api/appointments/{world_a.appointment.public_id}/"
    repriced = client.patch(own, {"price": "0.00"}, format="json")
    assert repriced.status_code == 403
    assert repriced.json()["error"]["code"] == "price_not_allowed"
    assert client.post(own + "cancel/").status_code == 200
    rebooked = client.post(
        "/api/appointments/",
        booking(world_a, start=world_a.at(10), resources=[str(world_a.stylist.public_id)])
        | {"price": "0.00"},
        format="json",
    )
    assert rebooked.status_code == 403
    assert rebooked.json()["error"]["code"] == "price_not_allowed"


def test_customer_cannot_set_a_price_when_booking(world_a, api):
    body = booking(world_a, price="1.00")
    del body["customer"]
    response = api(HOST_A, world_a.customer_user).post("/api/appointments/", body, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "price_not_allowed"


def test_managers_set_prices_on_booking_and_editing(world_a, api):
    client = api(HOST_A, world_a.manager)
    created = client.post(
        "/api/appointments/", booking(world_a, start=world_a.at(11), price="12.50"), format="json"
    )
    assert (created.status_code, created.json()["price"]) == (201, "12.50")
    edited = client.patch(
        f"/api/appointments/{created.json()['id']}/", {"price": "15.00"}, format="json"
    )
    assert (edited.status_code, edited.json()["price"]) == (200, "15.00")
