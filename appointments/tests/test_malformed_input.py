"""Inputs a fuzzer (schemathesis, against the OpenAPI schema) once turned into 500s: each is now a
400 with a field error."""

import pytest

from conftest import HOST_A
from users.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client(api, make_user, tenant_a):
    return api(HOST_A, make_user(Role.TENANT_OWNER, tenant_a))


@pytest.mark.parametrize("path", ["/api/appointments/", "/api/blockers/", "/api/charges/"])
@pytest.mark.parametrize(
    "value",
    [
        "2026-11-24T20:12:05+16:33",  # an offset Python accepts and PostgreSQL does not
        "1793-07-31T20:57:08.9+19:23",
        "0001-01-01T00:00:00+05:00",  # out of range once in UTC
        "2024-01-01T12:99:00Z",  # no such minute
    ],
)
def test_odd_datetime_filters_are_handled_without_a_500(owner_client, path, value):
    for name in ("start", "end"):
        response = owner_client.get(path, {name: value})
        assert response.status_code in (200, 400), (path, name, value, response.content)


def test_an_offset_beyond_postgresqls_range_still_filters_correctly(owner_client):
    # 20:12 at +16:33 is 03:39 UTC the same day: a valid instant, compared in UTC.
    response = owner_client.get("/api/appointments/", {"start": "2026-11-24T20:12:05+16:33"})
    assert response.status_code == 200


def test_impossible_time_in_a_body_is_a_field_error(owner_client):
    response = owner_client.post(
        "/api/blockers/",
        {"resource": "5df68507-37ff-15ec-bf9c-a13454b27c02", "starts_at": "2024-01-01T12:99:00Z",
         "ends_at": "2024-01-01T13:00:00Z"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert "starts_at" in response.json()["error"]["fields"]


def test_patching_working_hours_needs_whole_entries(owner_client):
    created = owner_client.post(
        "/api/resources/", {"name": "Chair", "type": "ROOM"}, format="json"
    ).json()
    response = owner_client.patch(
        f"/api/resources/{created['id']}/",
        {"working_hours": [{"weekday": 0, "end_time": "10:00"}]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert response.json()["error"]["fields"] == {
        "working_hours.0.start_time": ["This field is required."]
    }
