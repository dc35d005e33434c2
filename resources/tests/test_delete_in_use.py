"""A resource that appointments or blockers hold cannot be deleted (409 ``resource_in_use``,
nothing deleted); an unused one goes with its hours and leaves the services that listed it."""

from __future__ import annotations

import pytest

from appointments.models import Allocation, Blocker
from appointments.tests.world import EVERY_DAY_8_TO_20
from conftest import HOST_A
from core.models import AuditEvent
from resources.models import Resource, WorkingHours
from resources.services import resource_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def last_audit_id() -> int:
    # The audit table is append-only: rows other tests committed stay; only this test's count.
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def deleted_rows_after(before: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(id__gt=before, action="resource_deleted"))


@pytest.mark.parametrize(
    "which",
    [
        "stylist",  # holds the customer's appointment
        "room",  # holds only a blocker
    ],
)
def test_deleting_a_resource_in_use_is_a_409_and_nothing_is_deleted(
    api, world_a, last_audit_id, which
):
    resource = getattr(world_a, which)
    allocations = Allocation.objects.filter(resource=resource).count()
    response = api(HOST_A, world_a.owner).delete(f"/api/resources/{resource.public_id}/")
    assert response.status_code == 409, response.content
    error = response.json()["error"]
    assert error["code"] == "resource_in_use"
    assert resource.name in error["message"]
    assert Resource.objects.filter(pk=resource.pk).exists()
    assert Allocation.objects.filter(resource=resource).count() == allocations
    assert WorkingHours.objects.filter(resource=resource).count() == len(EVERY_DAY_8_TO_20)
    assert not deleted_rows_after(last_audit_id)


def test_a_resource_of_a_cancelled_appointment_is_still_in_use(api, world_a):
    cancelled = api(HOST_A, world_a.owner).post(
        f"/api/appointments/{world_a.other_appointment.public_id}/cancel/"
    )
    assert cancelled.status_code == 200
    response = api(HOST_A, world_a.owner).delete(f"/api/resources/{world_a.stylist2.public_id}/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "resource_in_use"


def test_an_unused_resource_is_deleted_with_its_hours_and_leaves_the_services(
    api, world_a, last_audit_id
):
    spare = resource_create(
        tenant=world_a.tenant, actor=world_a.owner, name="Spare chair", type="ROOM",
        working_hours=EVERY_DAY_8_TO_20,
    )  # fmt: skip
    requirement = world_a.treatment.requirements.get(resource_type="ROOM")
    requirement.eligible_resources.add(spare)
    response = api(HOST_A, world_a.manager).delete(f"/api/resources/{spare.public_id}/")
    assert response.status_code == 204
    assert not Resource.objects.filter(pk=spare.pk).exists()
    assert not WorkingHours.objects.filter(resource_id=spare.pk).exists()
    assert list(requirement.eligible_resources.all()) == [world_a.room]
    (row,) = deleted_rows_after(last_audit_id)
    assert row.object_id == str(spare.public_id)


def test_a_blocker_removed_frees_the_resource_for_deletion(api, world_a):
    Blocker.objects.filter(pk=world_a.blocker.pk).delete()  # its allocation goes with it
    response = api(HOST_A, world_a.owner).delete(f"/api/resources/{world_a.room.public_id}/")
    assert response.status_code == 204


@pytest.mark.parametrize("role", ["staff", "customer_user"])
def test_staff_and_customers_may_not_delete_resources(api, world_a, role):
    spare = resource_create(
        tenant=world_a.tenant, actor=world_a.owner, name="Spare", type="EQUIPMENT"
    )
    response = api(HOST_A, getattr(world_a, role)).delete(f"/api/resources/{spare.public_id}/")
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "permission_denied"
    assert error["message"] == "Your role may not add or change resources."
    assert Resource.objects.filter(pk=spare.pk).exists()
