"""GDPR: a customer's personal data exported on request and erased on request, keeping the
business's financial records; only owners and managers may do either."""

from __future__ import annotations

from decimal import Decimal

import pytest

from appointments.models import Appointment
from appointments.tests.conftest import world_a
from appointments.tests.world import World
from billing.models import Charge
from conftest import HOST_A, PASSWORD, connection
from core.models import AuditEvent
from customers.models import Customer
from plugin_data.models import CustomerPreference, Review
from users.models import User
from users.roles import Role

__all__ = ["world_a"]

pytestmark = pytest.mark.django_db


def export_url(customer: Customer) -> str:
    return f"/api/customers/{customer.public_id}/export/"


def erase_url(customer: Customer) -> str:
    return f"/api/customers/{customer.public_id}/erase/"


@pytest.fixture
def reviewed(world_a: World) -> World:
    past = Appointment.objects.get(customer=world_a.customer, status="COMPLETED")
    past.notes = "Allergic to lavender"
    past.save()
    Review.objects.create(
        appointment=past, service=world_a.cut, customer=world_a.customer, rating=5,
        comment="Lovely, my sister Jane recommended you",
    )  # fmt: skip
    CustomerPreference.objects.create(customer=world_a.customer, timezone="Europe/Paris")
    world_a.customer.phone = "+33 1 23 45 67 89"
    world_a.customer.address = "1 rue de la Paix, Paris"
    world_a.customer.notes = "Prefers mornings"
    world_a.customer.save()
    return world_a


@pytest.mark.parametrize("role", ["owner", "manager"])
def test_owners_and_managers_export_everything_kept_about_the_customer(api, reviewed, role):
    response = api(HOST_A, getattr(reviewed, role)).get(export_url(reviewed.customer))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["customer"]["name"] == "Cara Customer"
    assert body["customer"]["phone"] == "+33 1 23 45 67 89"
    assert body["customer"]["notes"] == "Prefers mornings"
    assert body["account"]["email"] == reviewed.customer_user.email
    assert {a["id"] for a in body["appointments"]} == {
        str(a.public_id) for a in Appointment.objects.filter(customer=reviewed.customer)
    }
    assert "Allergic to lavender" in [a["notes"] for a in body["appointments"]]
    assert body["charges"] == [
        {
            "id": str(reviewed.charge.public_id),
            "appointment": str(reviewed.charge.appointment.public_id),
            "kind": "APPOINTMENT",
            "amount": "40.00",
            "status": "PENDING",
            "paid_at": None,
            "created_at": body["charges"][0]["created_at"],
        }
    ]
    assert body["reviews"][0]["comment"] == "Lovely, my sister Jane recommended you"
    assert body["preferences"]["timezone"] == "Europe/Paris"
    # Nothing about anyone else.
    assert "Otto Other" not in response.content.decode()
    assert AuditEvent.objects.filter(
        action="customer_data_exported", object_id=str(reviewed.customer.public_id)
    ).exists()


def test_erase_anonymises_the_person_and_keeps_the_financial_records(api, reviewed):
    customer, account = reviewed.customer, reviewed.customer_user
    appointments_before = list(
        Appointment.objects.filter(customer=customer).values_list("pk", "price", "status")
    )
    charges_before = list(Charge.objects.filter(customer=customer).values_list("pk", "amount"))

    response = api(HOST_A, reviewed.owner).post(erase_url(customer))
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Erased customer"

    customer.refresh_from_db()
    assert (customer.name, customer.email, customer.phone, customer.address, customer.notes) == (
        "Erased customer", "", "", "", ""
    )  # fmt: skip
    assert customer.tags == [] and customer.erased_at is not None
    account.refresh_from_db()
    assert account.email.endswith("@erased.invalid")
    assert (account.first_name, account.last_name, account.is_active) == ("", "", False)
    assert not account.has_usable_password()

    assert (
        list(Appointment.objects.filter(customer=customer).values_list("pk", "price", "status"))
        == appointments_before
    )
    assert list(Charge.objects.filter(customer=customer).values_list("pk", "amount")) == (
        charges_before
    )
    assert charges_before[0][1] == Decimal("40.00")
    assert not Appointment.objects.filter(customer=customer).exclude(notes="").exists()
    assert Review.objects.get(customer=customer).comment == ""
    assert not CustomerPreference.objects.filter(customer=customer).exists()
    # The other customer is untouched.
    reviewed.other_customer.refresh_from_db()
    assert reviewed.other_customer.name == "Otto Other"

    erased = AuditEvent.objects.get(action="customer_erased")
    assert erased.details["charges_kept"] == 1
    assert erased.target_id == account.pk


def test_after_erasure_the_customer_cannot_sign_in(api, world_a):
    email = world_a.customer_user.email
    sign_in = {"email": email, "password": PASSWORD}
    assert api(HOST_A).post("/api/auth/token/", sign_in, format="json").status_code == 200
    old_token = api(HOST_A, world_a.customer_user)
    assert api(HOST_A, world_a.owner).post(erase_url(world_a.customer)).status_code == 200
    assert api(HOST_A).post("/api/auth/token/", sign_in, format="json").status_code == 401
    assert old_token.get("/api/me/").status_code == 401


def test_erase_is_idempotent(api, world_a):
    client = api(HOST_A, world_a.owner)
    first = client.post(erase_url(world_a.customer))
    second = client.post(erase_url(world_a.customer))
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert AuditEvent.objects.filter(action="customer_erased").count() == 1


@pytest.mark.parametrize("who", ["staff", "customer_user"])
def test_staff_and_customers_may_neither_export_nor_erase(api, world_a, who):
    client = api(HOST_A, getattr(world_a, who))
    for customer in (world_a.customer, world_a.other_customer):
        assert client.get(export_url(customer)).status_code == 403
        assert client.post(erase_url(customer)).status_code == 403
    world_a.customer.refresh_from_db()
    assert world_a.customer.erased_at is None


def test_platform_support_may_not_export_nor_erase(api, world_a, make_user):
    support = make_user(Role.PLATFORM_SUPPORT)
    client = api(HOST_A, support, issued_on="public")
    assert client.get(export_url(world_a.customer)).status_code == 403
    assert client.post(erase_url(world_a.customer)).status_code == 403


def test_another_tenants_customer_is_not_found(api, world_a, tenant_b, make_user):
    owner_b = make_user(Role.TENANT_OWNER, tenant_b)
    connection.set_schema_to_public()
    client = api("beta.localhost", owner_b)
    assert client.get(export_url(world_a.customer)).status_code == 404
    assert client.post(erase_url(world_a.customer)).status_code == 404
    assert User.objects.get(pk=world_a.customer_user.pk).is_active


def test_erase_scrubs_the_outboxs_copies_and_cancels_what_was_not_sent(api, world_a):
    from notifications.models import Delivery, OutboxEvent

    connection.set_schema_to_public()
    events = OutboxEvent.objects.filter(
        tenant=world_a.tenant, payload__customer__id=str(world_a.customer.public_id)
    )
    assert events.exists()  # the booking's events name the customer
    event = events.first()
    pending = Delivery.objects.create(
        event=event, tenant=world_a.tenant, plugin="appointment-reminders",
        channel=Delivery.Channel.EMAIL, recipient="c@x.test", message={"text": "Hi Cara"},
    )  # fmt: skip
    others = OutboxEvent.objects.filter(
        tenant=world_a.tenant, payload__customer__id=str(world_a.other_customer.public_id)
    )
    before_others = list(others.values_list("payload", flat=True))

    assert api(HOST_A, world_a.owner).post(erase_url(world_a.customer)).status_code == 200

    connection.set_schema_to_public()
    for payload in events.values_list("payload", flat=True):
        assert payload["customer"]["email"] == ""
        assert payload["customer"]["name"] == "Erased customer"
    pending.refresh_from_db()
    assert pending.status == Delivery.Status.CANCELLED
    assert pending.message == {} and "c@x.test" not in pending.recipient
    assert list(others.values_list("payload", flat=True)) == before_others
