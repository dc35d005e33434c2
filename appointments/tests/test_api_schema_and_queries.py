from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments.services import appointment_book
from conftest import HOST_A


def statements(queries):
    return sum(not q["sql"].startswith("SET search_path") for q in queries.captured_queries)


def test_appointment_list_costs_the_same_queries_for_3_or_13_appointments(world_a, api):
    client = api(HOST_A, world_a.owner)
    client.get("/api/appointments/")  # warm per-process caches (host routes) first
    with CaptureQueriesContext(connection) as few:
        assert client.get("/api/appointments/").json()["count"] == 3
    for hour in range(8, 18):
        appointment_book(
            tenant=world_a.tenant, actor=world_a.owner, service=world_a.treatment,
            customer=world_a.customer, starts_at=world_a.at(hour, days=1) + timedelta(minutes=15),
        )  # fmt: skip
    with CaptureQueriesContext(connection) as many:
        body = client.get("/api/appointments/").json()
    assert body["count"] == 13
    assert statements(many) == statements(few)
    booked = {a["id"]: a for a in body["results"]}[str(world_a.appointment.public_id)]
    assert booked["created_by"] == str(world_a.owner.public_id)


def test_openapi_schema_documents_the_scheduling_api_with_examples(world_a, api):
    response = api(HOST_A).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    for path in (
        "/api/appointments/", "/api/appointments/{id}/cancel/", "/api/availability/",
        "/api/resources/", "/api/services/", "/api/customers/", "/api/blockers/",
        "/api/charges/", "/api/billing/summary/", "/api/calendar/{token}.ics",
    ):  # fmt: skip
        assert path in schema["paths"], path
    booking = schema["paths"]["/api/appointments/"]["post"]
    assert booking["requestBody"]["content"]["application/json"]["examples"]
    assert "409" in booking["responses"]
    headers = [p["name"] for p in booking["parameters"] if p["in"] == "header"]
    assert "Idempotency-Key" in headers
