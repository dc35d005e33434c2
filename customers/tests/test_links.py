"""One customer record per CUSTOMER account: a second link is a 409, and nothing is written."""

from __future__ import annotations

import pytest

from appointments.tests.conftest import world_a
from conftest import HOST_A
from core.models import AuditEvent
from customers.models import Customer

__all__ = ["world_a"]

pytestmark = pytest.mark.django_db


def test_linking_an_account_that_already_has_a_customer_record_is_a_conflict(api, world_a):
    taken = str(world_a.customer_user.public_id)
    # The audit table is append-only: rows other tests committed stay; only this test's count.
    before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    client = api(HOST_A, world_a.owner)
    created = client.post("/api/customers/", {"name": "Twin", "user": taken}, format="json")
    assert created.status_code == 409
    assert created.json()["error"]["code"] == "conflict"
    assert created.json()["error"]["fields"] == {"user": ["Already linked."]}
    moved = client.patch(
        f"/api/customers/{world_a.other_customer.public_id}/", {"user": taken}, format="json"
    )
    assert moved.status_code == 409
    assert moved.json()["error"]["code"] == "conflict"
    assert moved.json()["error"]["fields"] == {"user": ["Already linked."]}
    assert not Customer.objects.filter(name="Twin").exists()
    assert not AuditEvent.objects.filter(
        id__gt=before, action__in=["customer_created", "customer_updated"]
    ).exists()
