"""Real parallel requests on real connections: the database decides who gets the slot.

The test's own connection sits in the usual rolled-back transaction, which other connections
cannot see into; so the scenario runs in threads of its own, commits its data on this test
worker's database and removes it afterwards. The session tenants are left as they were.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import time, timedelta
from decimal import Decimal

from django.db import connection, connections
from django.utils import timezone
from rest_framework.test import APIClient

from appointments.models import Allocation, Appointment
from appointments.tests.test_booking import overlapping_allocations
from catalog.models import Service
from catalog.services import service_create
from conftest import HOST_A, bearer
from core.models import Tenant
from customers.models import Customer
from resources.models import Resource
from resources.services import resource_create
from users.tests.factories import UserFactory

CLIENTS = 20


def _post_when_released(barrier: threading.Barrier, token: str, body: dict) -> tuple[int, dict]:
    try:
        client = APIClient(HTTP_HOST=HOST_A)
        client.credentials(HTTP_AUTHORIZATION=token)
        barrier.wait()
        response = client.post("/api/appointments/", body, format="json")
        return response.status_code, response.json()
    finally:
        connections.close_all()  # this thread's own connection


def _in_own_thread(scenario) -> None:
    def run() -> None:
        try:
            scenario()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(run).result()


def test_twenty_parallel_bookings_of_one_resource_one_wins_the_rest_get_409(db):
    _in_own_thread(_twenty_clients_race_for_one_resource)


def _twenty_clients_race_for_one_resource() -> None:
    tenant = Tenant.objects.get(schema_name="alpha")
    connection.set_tenant(tenant)
    owner = UserFactory(role="TENANT_OWNER", tenant=tenant)
    resource = resource_create(
        tenant=tenant,
        actor=owner,
        name="Contested chair",
        type="EQUIPMENT",
        working_hours=[
            {"weekday": d, "start_time": time(0), "end_time": time(23)} for d in range(7)
        ],
    )
    service = service_create(
        actor=owner,
        name="Contested",
        duration_minutes=60,
        price=Decimal("10"),
        requirements=[{"resource_type": "EQUIPMENT", "eligible_resources": [resource]}],
    )
    customer = Customer.objects.create(name="Racer")
    try:
        day = (timezone.now() + timedelta(days=3)).replace(hour=9, minute=0, second=0)
        day = day.replace(microsecond=0)
        token = bearer(owner, "alpha")
        barrier = threading.Barrier(CLIENTS)
        # Starts 3 minutes apart: every pair of these one-hour holds overlaps.
        bodies = [
            {
                "service": str(service.public_id),
                "customer": str(customer.public_id),
                "starts_at": (day + timedelta(minutes=3 * i)).isoformat(),
                "resources": [str(resource.public_id)],
            }
            for i in range(CLIENTS)
        ]
        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            answers = list(pool.map(lambda body: _post_when_released(barrier, token, body), bodies))
        assert sorted(status for status, _ in answers) == [201] + [409] * (CLIENTS - 1)
        for status, body in answers:
            if status == 409:  # a clear message naming the busy resource
                assert body["error"]["code"] == "resource_busy"
                assert "Contested chair" in body["error"]["message"]
        connection.set_tenant(tenant)
        assert Allocation.objects.filter(resource=resource, is_live=True).count() == 1
        assert overlapping_allocations() == 0
    finally:
        connection.set_tenant(tenant)
        Allocation.objects.filter(resource=resource).delete()
        Appointment.objects.filter(service=service).delete()
        Service.objects.filter(pk=service.pk).delete()
        Customer.objects.filter(pk=customer.pk).delete()
        Resource.objects.filter(pk=resource.pk).delete()
        connection.set_schema_to_public()
        owner.delete()
