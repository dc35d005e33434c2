from django.db import connection

from appointments.demo import demo_week_seed
from appointments.models import Appointment
from appointments.tests.test_booking import overlapping_allocations
from billing.models import Charge


def test_demo_week_is_seeded_once_and_holds_no_double_booking(tenant_a, make_user):
    make_user("TENANT_OWNER", tenant=tenant_a)
    staff = make_user("TENANT_STAFF", tenant=tenant_a, email="staff@demo.localhost")
    assert demo_week_seed(tenant=tenant_a) is True
    assert demo_week_seed(tenant=tenant_a) is False
    connection.set_tenant(tenant_a)
    statuses = set(Appointment.objects.values_list("status", flat=True))
    assert statuses == {"PENDING", "CONFIRMED", "COMPLETED", "NO_SHOW", "CANCELLED"}
    assert Charge.objects.filter(kind="APPOINTMENT").count() == 4
    assert Appointment.objects.filter(allocations__resource__user_id=staff.pk).exists()
    assert overlapping_allocations() == 0
