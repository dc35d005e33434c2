"""Services through HTTP: who may create, change and delete them, what a bad one is refused with
(the code and the field, not only the status), and that a service appointments use stays."""

from __future__ import annotations

from decimal import Decimal

import pytest

from appointments.tests.conftest import world_a, world_b
from catalog.models import Service, ServiceRequirement
from catalog.services import service_create, service_delete, service_update
from conftest import HOST_A, HOST_B
from core.exceptions import Conflict, DomainError
from core.models import AuditEvent

__all__ = ["world_a", "world_b"]

pytestmark = pytest.mark.django_db


def audit_rows_after(before: int, *actions: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(id__gt=before, action__in=actions).order_by("id"))


@pytest.fixture
def last_audit_id() -> int:
    # The audit table is append-only: rows other tests committed stay; only this test's count.
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def massage(world, **overrides):
    body = {
        "name": "Massage",
        "description": "Fifty minutes.",
        "duration_minutes": 50,
        "price": "80.00",
        "buffer_after_minutes": 10,
        "requirements": [
            {"resource_type": "STAFF", "eligible_resources": [str(world.stylist.public_id)]},
            {"resource_type": "ROOM", "eligible_resources": [str(world.room.public_id)]},
        ],
    }
    body.update(overrides)
    return body


def assert_error(response, status: int, code: str, *fields: str) -> dict:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code, error
    if fields:
        assert set(fields) <= set(error.get("fields", {})), error
    return error


# --- create, update, list -------------------------------------------------------------------


def test_a_manager_creates_a_service_with_its_requirements(api, world_a, last_audit_id):
    response = api(HOST_A, world_a.manager).post("/api/services/", massage(world_a), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["name"], body["price"], body["duration_minutes"]) == ("Massage", "80.00", 50)
    assert body["buffer_after_minutes"] == 10 and body["is_active"] is True
    assert body["requirements"] == [
        {"resource_type": "STAFF", "eligible_resources": [str(world_a.stylist.public_id)]},
        {"resource_type": "ROOM", "eligible_resources": [str(world_a.room.public_id)]},
    ]
    service = Service.objects.get(public_id=body["id"])
    assert [r.resource_type for r in service.requirements.all()] == ["STAFF", "ROOM"]
    (row,) = audit_rows_after(last_audit_id, "service_created")
    assert (row.actor_id, row.object_id) == (world_a.manager.pk, body["id"])


def test_an_owner_changes_price_and_replaces_the_requirements(api, world_a, last_audit_id):
    url = f"/api/services/{world_a.treatment.public_id}/"
    response = api(HOST_A, world_a.owner).patch(
        url,
        {
            "price": "75.50",
            "requirements": [
                {"resource_type": "ROOM", "eligible_resources": [str(world_a.room.public_id)]}
            ],
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["price"] == "75.50"
    world_a.treatment.refresh_from_db()
    assert world_a.treatment.price == Decimal("75.50")
    assert list(world_a.treatment.requirements.values_list("resource_type", flat=True)) == ["ROOM"]
    (row,) = audit_rows_after(last_audit_id, "service_updated")
    assert row.details["fields"] == ["price", "requirements"]


def test_a_patch_without_requirements_keeps_them(api, world_a):
    before = list(world_a.treatment.requirements.values_list("id", flat=True))
    response = api(HOST_A, world_a.owner).patch(
        f"/api/services/{world_a.treatment.public_id}/", {"name": "Deep treatment"}, format="json"
    )
    assert response.status_code == 200
    assert list(world_a.treatment.requirements.values_list("id", flat=True)) == before


def test_the_list_filters_on_is_active(api, world_a):
    service_update(service=world_a.treatment, actor=world_a.owner, is_active=False)
    client = api(HOST_A, world_a.customer_user)

    def names(query: str) -> list[str]:
        return [s["name"] for s in client.get(f"/api/services/{query}").json()["results"]]

    assert names("") == ["Haircut", "Treatment"]
    assert names("?is_active=true") == ["Haircut"]
    assert names("?is_active=false") == ["Treatment"]
    assert_error(client.get("/api/services/?is_active=maybe"), 400, "invalid", "is_active")


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": 24 * 60 + 1}, "duration_minutes"),
        ({"price": "-1.00"}, "price"),
        ({"price": "12.345"}, "price"),
        ({"buffer_before_minutes": -5}, "buffer_before_minutes"),
        ({"max_advance_days": 0}, "max_advance_days"),
        ({"max_advance_days": 731}, "max_advance_days"),
        ({"min_notice_minutes": -1}, "min_notice_minutes"),
        ({"min_notice_minutes": 730 * 24 * 60 + 1}, "min_notice_minutes"),
        ({"min_notice_minutes": 10**10}, "min_notice_minutes"),  # beyond the column, too
        ({"name": ""}, "name"),
        ({"requirements": [{"resource_type": "STAFF", "eligible_resources": []}]},
         "requirements.0.eligible_resources"),
        ({"requirements": [{"resource_type": "BOAT", "eligible_resources": []}]},
         "requirements.0.resource_type"),
    ],
)  # fmt: skip
def test_an_invalid_service_is_a_400_naming_the_field(api, world_a, overrides, field):
    count = Service.objects.count()
    response = api(HOST_A, world_a.owner).post(
        "/api/services/", massage(world_a, **overrides), format="json"
    )
    error = assert_error(response, 400, "invalid", field)
    assert error["fields"][field]
    assert Service.objects.count() == count


def test_more_than_five_requirements_are_refused(api, world_a):
    one = {"resource_type": "STAFF", "eligible_resources": [str(world_a.stylist.public_id)]}
    response = api(HOST_A, world_a.owner).post(
        "/api/services/", massage(world_a, requirements=[one] * 6), format="json"
    )
    assert_error(response, 400, "invalid", "requirements")


def test_a_resource_of_the_wrong_type_is_refused_and_nothing_is_written(api, world_a):
    count, requirements = Service.objects.count(), ServiceRequirement.objects.count()
    wrong = [{"resource_type": "ROOM", "eligible_resources": [str(world_a.stylist.public_id)]}]
    response = api(HOST_A, world_a.owner).post(
        "/api/services/", massage(world_a, requirements=wrong), format="json"
    )
    error = assert_error(response, 400, "invalid", "requirements")
    assert "Ana (stylist)" in error["message"]
    assert (Service.objects.count(), ServiceRequirement.objects.count()) == (count, requirements)


def test_a_resource_of_another_tenant_cannot_be_required(api, world_a, world_b):
    foreign = [{"resource_type": "STAFF", "eligible_resources": [str(world_b.stylist.public_id)]}]
    response = api(HOST_A, world_a.owner).post(
        "/api/services/", massage(world_a, requirements=foreign), format="json"
    )
    assert_error(response, 400, "invalid", "requirements.0.eligible_resources")


# --- delete ---------------------------------------------------------------------------------


def test_deleting_an_unused_service_removes_it_with_its_requirements(api, world_a, last_audit_id):
    pk, public_id = world_a.treatment.pk, world_a.treatment.public_id
    response = api(HOST_A, world_a.manager).delete(f"/api/services/{public_id}/")
    assert response.status_code == 204
    assert not Service.objects.filter(pk=pk).exists()
    assert not ServiceRequirement.objects.filter(service_id=pk).exists()
    (row,) = audit_rows_after(last_audit_id, "service_deleted")
    assert row.object_id == str(public_id)


def test_deleting_a_service_appointments_use_is_a_409_and_nothing_is_deleted(
    api, world_a, last_audit_id
):
    requirements = ServiceRequirement.objects.filter(service=world_a.cut).count()
    response = api(HOST_A, world_a.owner).delete(f"/api/services/{world_a.cut.public_id}/")
    error = assert_error(response, 409, "service_in_use")
    assert "Haircut" in error["message"]
    assert Service.objects.filter(pk=world_a.cut.pk).exists()
    assert ServiceRequirement.objects.filter(service=world_a.cut).count() == requirements
    assert not audit_rows_after(last_audit_id, "service_deleted")


def test_a_service_with_only_cancelled_appointments_is_still_in_use(world_a):
    service = service_create(actor=world_a.owner, name="Trial", duration_minutes=30, price=0)
    world_a.appointment.service = service
    world_a.appointment.status = "CANCELLED"
    world_a.appointment.save(update_fields=["service", "status"])
    with pytest.raises(Conflict) as refused:
        service_delete(service=service, actor=world_a.owner)
    assert refused.value.code == "service_in_use"
    assert Service.objects.filter(pk=service.pk).exists()


def test_the_service_layer_refuses_a_wrong_resource_type_without_writing(world_a):
    count = Service.objects.count()
    with pytest.raises(DomainError) as refused:
        service_create(
            actor=world_a.owner, name="Odd", duration_minutes=30, price=Decimal("1.00"),
            requirements=[{"resource_type": "EQUIPMENT", "eligible_resources": [world_a.room]}],
        )  # fmt: skip
    assert (refused.value.code, list(refused.value.fields)) == ("invalid", ["requirements"])
    assert Service.objects.count() == count


# --- who may do what ------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "manager", "staff", "customer_user"])
def test_everyone_of_the_business_reads_the_catalogue(api, world_a, role):
    client = api(HOST_A, getattr(world_a, role))
    assert client.get("/api/services/").status_code == 200
    detail = client.get(f"/api/services/{world_a.cut.public_id}/")
    assert detail.status_code == 200 and detail.json()["name"] == "Haircut"


@pytest.mark.parametrize("role", ["staff", "customer_user"])
def test_staff_and_customers_may_not_write_services(api, world_a, role):
    client = api(HOST_A, getattr(world_a, role))
    url = f"/api/services/{world_a.treatment.public_id}/"
    refusals = [
        client.post("/api/services/", massage(world_a), format="json"),
        client.patch(url, {"price": "0.00"}, format="json"),
        client.delete(url),
    ]
    for response in refusals:
        error = assert_error(response, 403, "permission_denied")
        assert error["message"] == "Your role may not add or change services."
    world_a.treatment.refresh_from_db()
    assert world_a.treatment.price == Decimal("70.00")
    assert not Service.objects.filter(name="Massage").exists()


def test_platform_support_reads_but_may_not_write(api, world_a, make_user):
    client = api(HOST_A, make_user("PLATFORM_SUPPORT"), issued_on="public")
    assert client.get("/api/services/").status_code == 200
    response = client.post("/api/services/", massage(world_a), format="json")
    assert_error(response, 403, "permission_denied")


def test_another_tenants_owner_reaches_nothing_here(api, world_a, world_b):
    # B's token on A's host is refused before anything is read.
    response = api(HOST_A, world_b.owner, issued_on="beta").get("/api/services/")
    assert_error(response, 401, "wrong_host")
    # B's token on B's host, naming A's service: not found there.
    on_b = api(HOST_B, world_b.owner)
    assert_error(on_b.get(f"/api/services/{world_a.cut.public_id}/"), 404, "not_found")
    assert_error(on_b.delete(f"/api/services/{world_a.treatment.public_id}/"), 404, "not_found")


def test_an_anonymous_caller_is_a_401(api, world_a):
    assert_error(api(HOST_A).get("/api/services/"), 401, "not_authenticated")
