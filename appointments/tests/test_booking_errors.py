"""A refused booking says what happened, with a distinct documented code: a past time is not
"too soon by 0 minutes", and a closed hour is not a resource someone else took."""

from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import HOST_A
from resources.models import DateOverride


def _book(world, api, start, **extra):
    body = {
        "service": str(world.cut.public_id),
        "customer": str(world.customer.public_id),
        "starts_at": start.isoformat(),
        **extra,
    }
    return api(HOST_A, world.owner).post("/api/appointments/", body, format="json")


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.json()
    error = response.json()["error"]
    assert error["code"] == code, error
    assert all(isinstance(m, str) for ms in error.get("fields", {}).values() for m in ms)
    return error


def test_booking_in_the_past_is_in_past_not_a_notice_of_0_minutes(world_a, api):
    error = _error(_book(world_a, api, timezone.now() - timedelta(hours=1)), 400, "in_past")
    assert "0 minutes" not in error["message"]
    assert error["fields"] == {"starts_at": ["Choose a time in the future."]}


def test_booking_inside_the_minimum_notice_is_too_soon(world_a, api):
    world_a.cut.min_notice_minutes = 60 * 24 * 30
    world_a.cut.save(update_fields=["min_notice_minutes"])
    error = _error(_book(world_a, api, world_a.at(14)), 400, "too_soon")
    assert "43200 minutes" in error["message"]


def test_booking_beyond_the_horizon_is_too_far_ahead(world_a, api):
    world_a.cut.max_advance_days = 2
    world_a.cut.save(update_fields=["max_advance_days"])
    error = _error(_book(world_a, api, world_a.at(14)), 400, "too_far_ahead")
    assert "at most 2 days" in error["message"]


@pytest.mark.parametrize(("hour", "minute"), [(22, 0), (19, 30), (6, 0)])
def test_booking_when_nobody_works_is_outside_hours_not_resource_busy(world_a, api, hour, minute):
    error = _error(_book(world_a, api, world_a.at(hour, minute)), 400, "outside_hours")
    assert "starts_at" in error["fields"]


def test_booking_on_a_closed_day_is_outside_hours(world_a, api):
    for resource in (world_a.stylist, world_a.stylist2):
        DateOverride.objects.create(resource=resource, date=world_a.day, is_closed=True)
    _error(_book(world_a, api, world_a.at(14)), 400, "outside_hours")


def test_booking_a_time_someone_took_is_resource_busy(world_a, api):
    error = _error(_book(world_a, api, world_a.at(10, 30)), 409, "resource_busy")
    assert "Ana (stylist)" in error["message"] and "Ben (stylist)" in error["message"]
    assert len(error["fields"]["resources"]) == 2


def test_a_busy_stylist_and_a_closed_one_is_resource_busy(world_a, api):
    DateOverride.objects.create(resource=world_a.stylist2, date=world_a.day, is_closed=True)
    error = _error(_book(world_a, api, world_a.at(10, 30)), 409, "resource_busy")
    assert error["fields"]["resources"] == [
        f"'Ana (stylist)' ({world_a.stylist.public_id}) is booked or blocked then."
    ]


def test_a_service_whose_resources_are_all_inactive_has_no_eligible_resource(world_a, api):
    for resource in (world_a.stylist, world_a.stylist2):
        resource.is_active = False
        resource.save(update_fields=["is_active"])
    _error(_book(world_a, api, world_a.at(14)), 400, "no_eligible_resource")


def test_rescheduling_into_closed_hours_is_outside_hours(world_a, api):
    response = api(HOST_A, world_a.owner).post(
        f"/api/appointments/{world_a.appointment.public_id}/reschedule/",
        {"starts_at": world_a.at(21).isoformat()},
        format="json",
    )
    _error(response, 400, "outside_hours")


def test_naming_two_resources_for_one_requirement_is_a_field_error(world_a, api):
    both = [str(world_a.stylist.public_id), str(world_a.stylist2.public_id)]
    treatment = {"service": str(world_a.treatment.public_id)}
    error = _error(_book(world_a, api, world_a.at(15), resources=both, **treatment), 400, "invalid")
    assert list(error["fields"]) == ["resources"]
