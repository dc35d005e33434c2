"""A customer reads its own record and appointments without the business's internal notes, tags
and status; the business's people see them all."""

from __future__ import annotations

import pytest

from appointments.services import appointment_update
from appointments.tests.conftest import world_a
from conftest import HOST_A
from customers.services import customer_update

__all__ = ["world_a"]

pytestmark = pytest.mark.django_db

INTERNAL_CUSTOMER_FIELDS = {"notes", "tags", "status"}


@pytest.fixture
def annotated(world_a):
    customer_update(
        tenant=world_a.tenant, customer=world_a.customer, actor=world_a.owner,
        notes="Owes us money; be firm.", tags=["difficult"],
    )  # fmt: skip
    appointment_update(
        tenant=world_a.tenant, appointment=world_a.appointment, actor=world_a.owner,
        notes="Late twice before.",
    )  # fmt: skip
    return world_a


def test_a_customer_reads_its_own_record_without_internal_fields(api, annotated):
    client = api(HOST_A, annotated.customer_user)
    listed = client.get("/api/customers/").json()["results"]
    detail = client.get(f"/api/customers/{annotated.customer.public_id}/").json()
    for body in (*listed, detail):
        assert not INTERNAL_CUSTOMER_FIELDS & set(body)
        assert body["name"] == "Cara Customer"
    assert "Owes us money" not in str(client.get("/api/customers/").content)


def test_a_customer_reads_its_own_appointments_without_internal_notes(api, annotated):
    client = api(HOST_A, annotated.customer_user)
    listed = client.get("/api/appointments/").json()["results"]
    detail = client.get(f"/api/appointments/{annotated.appointment.public_id}/").json()
    assert listed and all("notes" not in body for body in listed)
    assert "notes" not in detail and detail["status"] == "CONFIRMED"
    cancelled = client.post(f"/api/appointments/{annotated.appointment.public_id}/cancel/")
    assert cancelled.status_code == 200
    assert "notes" not in cancelled.json() and cancelled.json()["status"] == "CANCELLED"


def test_the_business_sees_the_internal_fields(api, annotated):
    for user in (annotated.owner, annotated.staff):
        client = api(HOST_A, user)
        customer = client.get(f"/api/customers/{annotated.customer.public_id}/").json()
        assert customer["notes"] == "Owes us money; be firm."
        assert customer["tags"] == ["difficult"] and customer["status"] == "ACTIVE"
        appointment = client.get(f"/api/appointments/{annotated.appointment.public_id}/").json()
        assert appointment["notes"] == "Late twice before."
