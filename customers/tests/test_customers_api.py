"""Customers through HTTP and through their services and selectors: who may read and write
them, what a bad one is refused with (code and field), the derived spend, last visit and
no-shows, and that a customer appointments name stays."""

from __future__ import annotations

from decimal import Decimal

import pytest

from appointments.models import Appointment
from appointments.tests.conftest import world_a, world_b
from billing.models import Charge
from billing.services import charge_set_status
from conftest import HOST_A, HOST_B
from core.exceptions import Conflict, DomainError
from core.models import AuditEvent
from customers.models import Customer
from customers.selectors import customer_list
from customers.services import (
    customer_create,
    customer_delete,
    customer_for_booking_user,
    customer_update,
)

__all__ = ["world_a", "world_b"]

pytestmark = pytest.mark.django_db

INTERNAL_FIELDS = {"notes", "tags", "status"}


@pytest.fixture
def last_audit_id() -> int:
    # The audit table is append-only: rows other tests committed stay; only this test's count.
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def audit_rows_after(before: int, *actions: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(id__gt=before, action__in=actions).order_by("id"))


def assert_error(response, status: int, code: str, *fields: str) -> dict:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code, error
    if fields:
        assert set(fields) <= set(error.get("fields", {})), error
    return error


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [c["name"] for c in response.json()["results"]]


# --- create, update, list -------------------------------------------------------------------


def test_a_manager_creates_a_customer(api, world_a, last_audit_id):
    body = {
        "name": "Mia Jones", "email": "mia@example.com", "phone": "+44 20 7946 0000",
        "tags": ["vip"], "notes": "Prefers mornings.",
    }  # fmt: skip
    response = api(HOST_A, world_a.manager).post("/api/customers/", body, format="json")
    assert response.status_code == 201, response.json()
    created = response.json()
    assert {k: created[k] for k in body} == body
    assert (created["status"], created["total_spend"], created["last_visit"]) == (
        "ACTIVE", "0.00", None,
    )  # fmt: skip
    assert created["no_show_count"] == 0 and created["user"] is None
    (row,) = audit_rows_after(last_audit_id, "customer_created")
    assert (row.actor_id, row.object_id) == (world_a.manager.pk, created["id"])


def test_an_owner_updates_a_customer_and_the_audit_names_the_fields(api, world_a, last_audit_id):
    response = api(HOST_A, world_a.owner).patch(
        f"/api/customers/{world_a.other_customer.public_id}/",
        {"status": "BLOCKED", "notes": "Never again."},
        format="json",
    )
    assert response.status_code == 200, response.json()
    world_a.other_customer.refresh_from_db()
    assert (world_a.other_customer.status, world_a.other_customer.notes) == (
        "BLOCKED", "Never again.",
    )  # fmt: skip
    (row,) = audit_rows_after(last_audit_id, "customer_updated")
    assert row.details["fields"] == ["notes", "status"]


def test_the_list_filters_by_status_search_and_tag(api, world_a):
    customer_update(
        tenant=world_a.tenant, customer=world_a.other_customer, actor=world_a.owner,
        status="INACTIVE", tags=["vip", "late"], phone="555-0199",
    )  # fmt: skip
    client = api(HOST_A, world_a.staff)
    assert names(client.get("/api/customers/")) == ["Cara Customer", "Otto Other"]
    assert names(client.get("/api/customers/?status=INACTIVE")) == ["Otto Other"]
    assert names(client.get("/api/customers/?status=ACTIVE")) == ["Cara Customer"]
    assert names(client.get("/api/customers/?search=cara")) == ["Cara Customer"]
    assert names(client.get("/api/customers/?search=c@x.TEST")) == ["Cara Customer"]
    assert names(client.get("/api/customers/?search=0199")) == ["Otto Other"]
    assert names(client.get("/api/customers/?tag=vip")) == ["Otto Other"]
    assert names(client.get("/api/customers/?tag=vi")) == []
    assert_error(client.get("/api/customers/?status=GONE"), 400, "invalid", "status")


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 151}, "name"),
        ({"name": "Bad mail", "email": "not-an-address"}, "email"),
        ({"name": "Bad status", "status": "GONE"}, "status"),
        ({"name": "Many tags", "tags": [f"t{i}" for i in range(21)]}, "tags"),
        ({"name": "Long tag", "tags": ["x" * 41]}, "tags.0"),
        ({"name": "No user", "user": "00000000-0000-0000-0000-000000000000"}, "user"),
    ],
)
def test_an_invalid_customer_is_a_400_naming_the_field(api, world_a, body, field):
    count = Customer.objects.count()
    response = api(HOST_A, world_a.owner).post("/api/customers/", body, format="json")
    error = assert_error(response, 400, "invalid", field)
    assert error["fields"][field]
    assert Customer.objects.count() == count


def test_only_a_customer_account_of_this_business_can_be_linked(api, world_a, world_b, make_user):
    client = api(HOST_A, world_a.owner)
    staff = client.post(
        "/api/customers/", {"name": "Staff", "user": str(world_a.staff.public_id)}, format="json"
    )
    error = assert_error(staff, 400, "invalid", "user")
    assert error["fields"]["user"] == ["Not a customer account of this business."]
    foreign = client.post(
        "/api/customers/", {"name": "B's", "user": str(world_b.customer_user.public_id)},
        format="json",
    )  # fmt: skip
    assert_error(foreign, 400, "invalid", "user")
    assert not Customer.objects.filter(name__in=["Staff", "B's"]).exists()


def test_the_service_refuses_a_link_to_another_tenants_customer_account(world_a, tenant_b):
    from users.tests.factories import UserFactory

    foreign = UserFactory.create(role="CUSTOMER", tenant=tenant_b)
    with pytest.raises(DomainError) as refused:
        customer_create(tenant=world_a.tenant, actor=world_a.owner, user=foreign, name="X")
    assert (refused.value.code, list(refused.value.fields)) == ("invalid", ["user"])


# --- delete ---------------------------------------------------------------------------------


def test_deleting_a_customer_without_appointments_removes_it(api, world_a, last_audit_id):
    customer = customer_create(tenant=world_a.tenant, actor=world_a.owner, name="Walk-in")
    response = api(HOST_A, world_a.manager).delete(f"/api/customers/{customer.public_id}/")
    assert response.status_code == 204
    assert not Customer.objects.filter(pk=customer.pk).exists()
    (row,) = audit_rows_after(last_audit_id, "customer_deleted")
    assert row.object_id == str(customer.public_id)


@pytest.mark.parametrize("which", ["customer", "other_customer"])
def test_deleting_a_customer_appointments_name_is_a_409_and_nothing_is_deleted(
    api, world_a, last_audit_id, which
):
    customer = getattr(world_a, which)
    appointments = Appointment.objects.filter(customer=customer).count()
    charges = Charge.objects.filter(customer=customer).count()
    response = api(HOST_A, world_a.owner).delete(f"/api/customers/{customer.public_id}/")
    error = assert_error(response, 409, "customer_in_use")
    assert customer.name in error["message"]
    assert Customer.objects.filter(pk=customer.pk).exists()
    assert Appointment.objects.filter(customer=customer).count() == appointments
    assert Charge.objects.filter(customer=customer).count() == charges
    assert not audit_rows_after(last_audit_id, "customer_deleted")


def test_a_customer_with_only_cancelled_appointments_is_still_in_use(world_a):
    Appointment.objects.filter(customer=world_a.other_customer).update(status="CANCELLED")
    with pytest.raises(Conflict) as refused:
        customer_delete(customer=world_a.other_customer, actor=world_a.owner)
    assert refused.value.code == "customer_in_use"


# --- derived figures (selectors) ------------------------------------------------------------


def test_total_spend_counts_paid_charges_only_and_last_visit_the_latest_completed(world_a):
    def figures():
        row = customer_list().get(pk=world_a.customer.pk)
        return row.total_spend, row.last_visit, row.no_show_count

    past = world_a.charge.appointment
    assert figures() == (Decimal("0.00"), past.starts_at, 0)  # the charge is PENDING
    charge_set_status(charge=world_a.charge, status="PAID", actor=world_a.owner)
    assert figures()[0] == Decimal("40.00")
    # A refunded charge is no longer spend; a no-show is counted, never a visit.
    charge_set_status(charge=world_a.charge, status="REFUNDED", actor=world_a.owner)
    Appointment.objects.filter(pk=world_a.appointment.pk).update(status="NO_SHOW")
    assert figures() == (Decimal("0.00"), past.starts_at, 1)
    # Another customer's figures are its own.
    other = customer_list().get(pk=world_a.other_customer.pk)
    assert (other.total_spend, other.last_visit, other.no_show_count) == (Decimal("0.00"), None, 0)


def test_the_api_shows_the_derived_figures(api, world_a):
    charge_set_status(charge=world_a.charge, status="PAID", actor=world_a.owner)
    body = api(HOST_A, world_a.owner).get(f"/api/customers/{world_a.customer.public_id}/").json()
    assert body["total_spend"] == "40.00"
    assert body["last_visit"] is not None and body["no_show_count"] == 0


def test_a_customer_account_gets_its_record_on_first_booking_once(world_a, make_user):
    user = make_user("CUSTOMER", world_a.tenant, first_name="Nia", last_name="Ray")
    first = customer_for_booking_user(user=user)
    again = customer_for_booking_user(user=user)
    assert first.pk == again.pk and (first.name, first.email) == ("Nia Ray", user.email)
    assert Customer.objects.filter(user=user).count() == 1


# --- who may do what ------------------------------------------------------------------------


def test_staff_read_customers_but_may_not_write_them(api, world_a):
    client = api(HOST_A, world_a.staff)
    assert names(client.get("/api/customers/")) == ["Cara Customer", "Otto Other"]
    url = f"/api/customers/{world_a.other_customer.public_id}/"
    for response in (
        client.post("/api/customers/", {"name": "Sneaky"}, format="json"),
        client.patch(url, {"notes": "changed"}, format="json"),
        client.delete(url),
    ):
        error = assert_error(response, 403, "permission_denied")
        assert error["message"] == "Your role may not add or change customers."
    world_a.other_customer.refresh_from_db()
    assert world_a.other_customer.notes == ""
    assert not Customer.objects.filter(name="Sneaky").exists()


def test_a_customer_sees_only_its_own_reduced_record(api, world_a):
    client = api(HOST_A, world_a.customer_user)
    listed = client.get("/api/customers/").json()["results"]
    assert [c["id"] for c in listed] == [str(world_a.customer.public_id)]
    assert not INTERNAL_FIELDS & set(listed[0])
    other = client.get(f"/api/customers/{world_a.other_customer.public_id}/")
    error = assert_error(other, 404, "not_found")
    assert error["message"] == "No such customer."


def test_a_customer_may_not_write_customers_not_even_its_own(api, world_a):
    client = api(HOST_A, world_a.customer_user)
    own = f"/api/customers/{world_a.customer.public_id}/"
    for response in (
        client.post("/api/customers/", {"name": "Me again"}, format="json"),
        client.patch(own, {"name": "Renamed"}, format="json"),
        client.delete(own),
    ):
        assert_error(response, 403, "permission_denied")
    world_a.customer.refresh_from_db()
    assert world_a.customer.name == "Cara Customer"


def test_a_customer_cannot_learn_its_internal_tags_or_status_by_filtering(api, world_a):
    customer_update(
        tenant=world_a.tenant, customer=world_a.customer, actor=world_a.owner,
        tags=["difficult"], status="BLOCKED",
    )  # fmt: skip
    client = api(HOST_A, world_a.customer_user)
    # Whatever the internal value, a filter on it answers the same: nothing.
    for query in ("tag=difficult", "tag=friendly", "status=BLOCKED", "status=ACTIVE"):
        assert names(client.get(f"/api/customers/?{query}")) == [], query
    assert names(client.get("/api/customers/?search=cara")) == ["Cara Customer"]
    # The business still filters on them.
    staff = api(HOST_A, world_a.staff)
    assert names(staff.get("/api/customers/?tag=difficult")) == ["Cara Customer"]
    assert names(staff.get("/api/customers/?status=BLOCKED")) == ["Cara Customer"]


def test_a_customer_account_without_a_record_sees_none(api, world_a, make_user):
    client = api(HOST_A, make_user("CUSTOMER", world_a.tenant))
    assert names(client.get("/api/customers/")) == []
    response = client.get(f"/api/customers/{world_a.customer.public_id}/")
    assert_error(response, 404, "not_found")


def test_platform_support_reads_customers_but_may_not_write(api, world_a, make_user):
    client = api(HOST_A, make_user("PLATFORM_SUPPORT"), issued_on="public")
    body = client.get(f"/api/customers/{world_a.customer.public_id}/").json()
    assert set(body) >= INTERNAL_FIELDS
    response = client.post("/api/customers/", {"name": "Support's"}, format="json")
    assert_error(response, 403, "permission_denied")


def test_another_tenants_people_reach_no_customer_here(api, world_a, world_b):
    response = api(HOST_A, world_b.owner, issued_on="beta").get("/api/customers/")
    assert_error(response, 401, "wrong_host")
    on_b = api(HOST_B, world_b.owner)
    url = f"/api/customers/{world_a.other_customer.public_id}/"
    assert_error(on_b.get(url), 404, "not_found")
    assert_error(on_b.patch(url, {"notes": "x"}, format="json"), 404, "not_found")
    assert_error(on_b.delete(url), 404, "not_found")


def test_visible_customers_follow_the_role(world_a, make_user, tenant_b):
    from customers.permissions import sees_all_customers, visible_customers

    def seen(user) -> set[int]:
        visible = visible_customers(customer_list(), user=user, tenant=world_a.tenant)
        return set(visible.values_list("pk", flat=True))

    every = {world_a.customer.pk, world_a.other_customer.pk}
    for insider in (world_a.owner, world_a.manager, world_a.staff, make_user("PLATFORM_SUPPORT")):
        assert seen(insider) == every, insider.role
        assert sees_all_customers(user=insider, tenant=world_a.tenant)
    assert seen(world_a.customer_user) == {world_a.customer.pk}
    assert not sees_all_customers(user=world_a.customer_user, tenant=world_a.tenant)
    assert seen(make_user("TENANT_OWNER", tenant_b)) == set()
