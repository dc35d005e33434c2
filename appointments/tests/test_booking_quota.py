"""The tier's bookings per month: counted by the booking's own transaction in the database, a
booking past it refused with 429 ``quota_exceeded`` and Retry-After until the next month."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from appointments.models import Appointment, MonthlyBookingCount
from appointments.services import appointment_book
from appointments.services.holds import ResourceBusy
from appointments.tests.live import committed_schedule, serving
from appointments.tests.test_concurrency import _post_together
from conftest import HOST_A, bearer, connection
from core.exceptions import QuotaExceeded
from tenancy.provisioning import on_own_connection

pytestmark = pytest.mark.django_db


def quota(settings, bookings: int | None) -> None:
    settings.TIER_QUOTAS = {
        **settings.TIER_QUOTAS,
        "BUSINESS": {"bookings_per_month": bookings, "api_calls_per_day": None},
    }


def book(api, world, hour: int):
    body = {
        "service": str(world.cut.public_id),
        "customer": str(world.customer.public_id),
        "starts_at": world.at(hour).isoformat(),
    }
    return api(HOST_A, world.owner).post("/api/appointments/", body, format="json")


def test_a_booking_past_the_monthly_quota_is_429_until_next_month(api, settings, world_a):
    month = datetime.now(UTC).date().replace(day=1)
    made = MonthlyBookingCount.objects.get(month=month).bookings  # the world's own bookings
    quota(settings, made + 1)
    assert book(api, world_a, 14).status_code == 201
    refused = book(api, world_a, 15)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "quota_exceeded"
    assert 0 < int(refused["Retry-After"]) <= 31 * 24 * 3600
    assert MonthlyBookingCount.objects.get(month=month).bookings == made + 1
    assert not Appointment.objects.filter(starts_at=world_a.at(15)).exists()


def test_a_booking_that_fails_is_not_counted(settings, world_a):
    month = datetime.now(UTC).date().replace(day=1)
    made = MonthlyBookingCount.objects.get(month=month).bookings
    quota(settings, made + 1)
    with pytest.raises(ResourceBusy):  # the stylist holds the world's appointment then
        appointment_book(
            tenant=world_a.tenant, actor=world_a.owner, service=world_a.cut,
            customer=world_a.other_customer, starts_at=world_a.at(10),
            resources=[world_a.stylist],
        )  # fmt: skip
    assert MonthlyBookingCount.objects.get(month=month).bookings == made
    appointment_book(
        tenant=world_a.tenant, actor=world_a.owner, service=world_a.cut,
        customer=world_a.other_customer, starts_at=world_a.at(16),
    )  # fmt: skip
    with pytest.raises(QuotaExceeded):
        appointment_book(
            tenant=world_a.tenant, actor=world_a.owner, service=world_a.cut,
            customer=world_a.other_customer, starts_at=world_a.at(17),
        )  # fmt: skip


def test_tiers_without_a_quota_count_nothing(settings, world_a):
    quota(settings, None)
    before = list(MonthlyBookingCount.objects.values())
    appointment_book(
        tenant=world_a.tenant, actor=world_a.owner, service=world_a.cut,
        customer=world_a.other_customer, starts_at=world_a.at(16),
    )  # fmt: skip
    assert list(MonthlyBookingCount.objects.values()) == before


def test_parallel_bookings_never_pass_the_quota(db, settings):
    on_own_connection(lambda: _twenty_clients_against_a_quota_of_five(settings))


def _twenty_clients_against_a_quota_of_five(settings) -> None:
    clients = 20
    with committed_schedule(resource_count=clients) as world, serving() as port:
        connection.set_tenant(world.tenant)
        month = datetime.now(UTC).date().replace(day=1)
        counter = MonthlyBookingCount.objects.filter(month=month).first()
        before = counter.bookings if counter else 0
        quota(settings, before + 5)
        bodies = [
            {
                "service": str(world.service.public_id),
                "customer": str(world.customer.public_id),
                "starts_at": world.day.isoformat(),
                "resources": [str(resource.public_id)],
            }
            for resource in world.resources
        ]
        try:
            answers = _post_together(port, bearer(world.owner, "alpha"), bodies)
            assert sorted(a.status for a in answers) == [201] * 5 + [429] * (clients - 5)
            assert {a.body["error"]["code"] for a in answers if a.status == 429} == {
                "quota_exceeded"
            }
            connection.set_tenant(world.tenant)
            assert MonthlyBookingCount.objects.get(month=month).bookings == before + 5
            assert Appointment.objects.filter(service=world.service).count() == 5
        finally:
            connection.set_tenant(world.tenant)
            MonthlyBookingCount.objects.filter(month=month).update(bookings=before)
