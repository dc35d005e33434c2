"""Date overrides over the API: every write goes through its audited service, and one is loaded
by id only through the access-checked fetcher (another business's is a 404, as an unknown one)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conftest import HOST_A
from core.models import AuditEvent
from resources.models import DateOverride

pytestmark = pytest.mark.django_db


@pytest.fixture
def last_audit_id() -> int:
    # The audit table is append-only: rows other tests committed stay; only this test's count.
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def actions_after(before: int) -> list[str]:
    return list(
        AuditEvent.objects.filter(id__gt=before, action__startswith="date_override_")
        .order_by("id")
        .values_list("action", flat=True)
    )


def test_creating_changing_and_deleting_an_override_each_record_an_audit_event(
    api, world_a, last_audit_id
):
    owner = api(HOST_A, world_a.owner)
    day = world_a.day + timedelta(days=5)
    created = owner.post(
        "/api/date-overrides/",
        {"resource": str(world_a.room.public_id), "date": day.isoformat(), "is_closed": True},
        format="json",
    )
    assert created.status_code == 201, created.content
    path = f"/api/date-overrides/{created.json()['id']}/"
    changed = owner.patch(path, {"note": "Inventory"}, format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["note"] == "Inventory"
    assert owner.delete(path).status_code == 204
    assert not DateOverride.objects.filter(resource=world_a.room, date=day).exists()
    assert actions_after(last_audit_id) == [
        "date_override_created",
        "date_override_updated",
        "date_override_deleted",
    ]


def test_an_override_of_another_business_is_not_found(api, world_a, world_b):
    response = api(HOST_A, world_a.owner).get(f"/api/date-overrides/{world_b.override.public_id}/")
    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "not_found",
        "message": "No such date override.",
    }
