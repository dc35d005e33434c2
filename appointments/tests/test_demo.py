from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from appointments.models import Appointment
from appointments.tests.test_booking import overlapping_allocations
from billing.models import Charge
from conftest import connection
from demo.fixtures import demo_week_seed, opening_day

FINISHED = {"COMPLETED", "NO_SHOW", "CANCELLED"}
OPEN = {"PENDING", "CONFIRMED"}


def test_demo_week_is_seeded_once_and_holds_no_double_booking(tenant_a, make_user):
    make_user("TENANT_OWNER", tenant=tenant_a)
    staff = make_user("TENANT_STAFF", tenant=tenant_a, email="staff@demo.localhost")
    assert demo_week_seed(tenant=tenant_a) is True
    assert demo_week_seed(tenant=tenant_a) is False
    connection.set_tenant(tenant_a)
    statuses = set(Appointment.objects.values_list("status", flat=True))
    assert statuses == {"PENDING", "CONFIRMED", "COMPLETED", "NO_SHOW", "CANCELLED"}
    assert Charge.objects.filter(kind="APPOINTMENT").count() == 6
    assert Appointment.objects.filter(allocations__resource__user_id=staff.pk).exists()
    assert overlapping_allocations() == 0


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 3, 29, 22, 59, tzinfo=UTC),  # Sunday 23:59 in London (summer time)
        datetime(2026, 3, 30, 0, 1, tzinfo=ZoneInfo("Europe/London")),  # Monday 00:01
    ],
    ids=["sunday-night", "monday-morning"],
)
def test_demo_statuses_fit_the_clock_whatever_the_hour(tenant_a, make_user, now):
    tenant_a.timezone = "Europe/London"
    make_user("TENANT_OWNER", tenant=tenant_a)
    assert demo_week_seed(tenant=tenant_a, now=now) is True
    connection.set_tenant(tenant_a)
    today = now.astimezone(ZoneInfo("Europe/London")).date()
    for appointment in Appointment.objects.all():
        assert appointment.starts_at.astimezone(ZoneInfo("Europe/London")).date() != today
        expected = FINISHED if appointment.starts_at < now else OPEN
        assert appointment.status in expected, (appointment.starts_at, appointment.status)
    assert {a.starts_at < now for a in Appointment.objects.all()} == {True, False}


def test_opening_days_skip_sundays():
    saturday = date(2026, 3, 28)
    assert opening_day(saturday, 1).isoformat() == "2026-03-30"
    assert opening_day(saturday, -1).isoformat() == "2026-03-27"
    assert opening_day(opening_day(saturday, 1), -1) == saturday
