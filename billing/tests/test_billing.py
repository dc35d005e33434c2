"""Billing: the late-cancellation fee inside the window and none outside, charges and their
payment status, the revenue summary and the cancellation policy, and who may read or change
each (refusals checked by their code, not only their status)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from appointments.models import Appointment
from appointments.services import appointment_transition, late_cancellation_fee
from appointments.tests.conftest import world_a, world_b
from billing.models import Charge
from billing.selectors import revenue_summary
from billing.services import charge_create, charge_set_status
from conftest import HOST_A, HOST_B
from core.exceptions import DomainError
from core.models import AuditEvent
from tenancy.models import Tenant

__all__ = ["world_a", "world_b"]

pytestmark = pytest.mark.django_db

BILLING_REFUSAL = "Your role may not see this business's billing."
BILLING_CHANGE_REFUSAL = "Your role may not change this business's billing."


@pytest.fixture
def last_audit_id() -> int:
    # The audit table is append-only: rows other tests committed stay; only this test's count.
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def audit_rows_after(before: int, *actions: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(id__gt=before, action__in=actions).order_by("id"))


def assert_error(response, status: int, code: str, *fields: str) -> dict:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code, error
    if fields:
        assert set(fields) <= set(error.get("fields", {})), error
    return error


def set_policy(tenant: Tenant, *, hours: int, percent: str) -> None:
    Tenant.objects.filter(pk=tenant.pk).update(
        cancellation_window_hours=hours, late_cancellation_fee_percent=Decimal(percent)
    )


# --- the late-cancellation fee --------------------------------------------------------------


@pytest.mark.parametrize(
    ("hours_before_start", "fee"),
    [
        (25, None),  # outside the 24 h window: free
        (24, Decimal("20.00")),  # the window's first moment is inside it
        (23, Decimal("20.00")),
        (0.5, Decimal("20.00")),
    ],
)
def test_cancelling_charges_the_fee_inside_the_window_only(
    world_a, last_audit_id, hours_before_start, fee
):
    set_policy(world_a.tenant, hours=24, percent="50")
    appointment = world_a.appointment  # Haircut, 40.00, CONFIRMED
    now = appointment.starts_at - timedelta(hours=hours_before_start)
    appointment_transition(
        tenant=world_a.tenant, actor=world_a.owner, appointment=appointment, to="CANCELLED",
        now=now,
    )  # fmt: skip
    charges = Charge.objects.filter(appointment=appointment)
    if fee is None:
        assert not charges.exists()
    else:
        (charge,) = charges
        assert (charge.kind, charge.amount, charge.status) == ("LATE_CANCELLATION", fee, "PENDING")
        assert charge.customer_id == world_a.customer.pk
        (row,) = audit_rows_after(last_audit_id, "charge_created")
        assert row.details["amount"] == str(fee)
    (status_row,) = audit_rows_after(last_audit_id, "appointment_status_changed")
    assert status_row.details["late_fee"] == str(fee or Decimal("0.00"))


def test_no_fee_when_the_policy_charges_nothing(world_a):
    set_policy(world_a.tenant, hours=24 * 30, percent="0")
    appointment_transition(
        tenant=world_a.tenant, actor=world_a.owner, appointment=world_a.appointment,
        to="CANCELLED",
    )  # fmt: skip
    assert not Charge.objects.filter(appointment=world_a.appointment).exists()


@pytest.mark.parametrize(
    ("price", "percent", "fee"),
    [
        ("40.00", "50", "20.00"),
        ("70.00", "12.25", "8.58"),  # 8.575 rounds half up
        ("0.00", "100", "0.00"),
        ("33.33", "100", "33.33"),
    ],
)
def test_the_fee_is_the_percentage_of_the_price_rounded_half_up(price, percent, fee):
    starts_at = timezone.now() + timedelta(hours=2)
    tenant = Tenant(cancellation_window_hours=24, late_cancellation_fee_percent=Decimal(percent))
    appointment = Appointment(price=Decimal(price), starts_at=starts_at)
    owed = late_cancellation_fee(tenant=tenant, appointment=appointment, now=timezone.now())
    assert owed == Decimal(fee)


def test_a_customer_cancelling_late_sees_its_fee(api, world_a):
    set_policy(world_a.tenant, hours=24 * 30, percent="25")
    client = api(HOST_A, world_a.customer_user)
    cancelled = client.post(f"/api/appointments/{world_a.appointment.public_id}/cancel/")
    assert cancelled.status_code == 200, cancelled.json()
    fees = client.get("/api/charges/?kind=LATE_CANCELLATION").json()["results"]
    assert [(c["amount"], c["appointment"]) for c in fees] == [
        ("10.00", str(world_a.appointment.public_id))
    ]


def test_completing_charges_the_price_and_a_free_appointment_nothing(world_a):
    appointment_transition(
        tenant=world_a.tenant, actor=world_a.owner, appointment=world_a.appointment,
        to="COMPLETED",
    )  # fmt: skip
    (charge,) = Charge.objects.filter(appointment=world_a.appointment)
    assert (charge.kind, charge.amount) == ("APPOINTMENT", Decimal("40.00"))
    free = world_a.other_appointment
    Appointment.objects.filter(pk=free.pk).update(price=Decimal("0.00"), status="CONFIRMED")
    appointment_transition(
        tenant=world_a.tenant, actor=world_a.owner, appointment=free, to="COMPLETED"
    )
    assert not Charge.objects.filter(appointment=free).exists()


# --- payment status -------------------------------------------------------------------------


def test_payment_status_moves_forward_only(world_a, last_audit_id):
    charge = charge_set_status(charge=world_a.charge, status="PAID", actor=world_a.owner)
    assert charge.status == "PAID" and charge.paid_at is not None
    charge = charge_set_status(charge=charge, status="REFUNDED", actor=world_a.owner)
    assert charge.status == "REFUNDED"
    for status in ("PAID", "PENDING", "VOID"):
        with pytest.raises(DomainError) as refused:
            charge_set_status(charge=charge, status=status, actor=world_a.owner)
        assert (refused.value.code, list(refused.value.fields)) == (
            "invalid_transition",
            ["status"],
        )
    rows = audit_rows_after(last_audit_id, "charge_status_changed")
    assert [(r.details["previous_status"], r.details["status"]) for r in rows] == [
        ("PENDING", "PAID"), ("PAID", "REFUNDED"),
    ]  # fmt: skip


def test_a_void_charge_stays_void(world_a):
    charge_set_status(charge=world_a.charge, status="VOID", actor=world_a.owner)
    with pytest.raises(DomainError) as refused:
        charge_set_status(charge=world_a.charge, status="PAID", actor=world_a.owner)
    assert refused.value.code == "invalid_transition"
    world_a.charge.refresh_from_db()
    assert (world_a.charge.status, world_a.charge.paid_at) == ("VOID", None)


def test_the_owner_marks_a_charge_paid_over_the_api(api, world_a, last_audit_id):
    client = api(HOST_A, world_a.owner)
    url = f"/api/charges/{world_a.charge.public_id}/"
    paid = client.patch(url, {"status": "PAID"}, format="json")
    assert paid.status_code == 200, paid.json()
    assert paid.json()["status"] == "PAID" and paid.json()["paid_at"] is not None
    (row,) = audit_rows_after(last_audit_id, "charge_status_changed")
    assert (row.actor_id, row.object_id) == (world_a.owner.pk, str(world_a.charge.public_id))
    back = client.patch(url, {"status": "PENDING"}, format="json")
    error = assert_error(back, 400, "invalid_transition", "status")
    assert error["fields"]["status"] == ["PAID -> PENDING is not allowed."]
    assert_error(client.patch(url, {"status": "STOLEN"}, format="json"), 400, "invalid", "status")
    assert_error(client.patch(url, {}, format="json"), 400, "invalid", "status")
    world_a.charge.refresh_from_db()
    assert world_a.charge.status == "PAID"


# --- listing and the summary ----------------------------------------------------------------


def test_the_charge_list_filters(api, world_a):
    fee = charge_create(
        appointment=world_a.other_appointment, kind="LATE_CANCELLATION", amount=Decimal("5.00"),
        actor=world_a.owner,
    )  # fmt: skip
    client = api(HOST_A, world_a.owner)

    def ids(query: str) -> set[str]:
        response = client.get(f"/api/charges/?{query}")
        assert response.status_code == 200, response.content
        return {c["id"] for c in response.json()["results"]}

    both = {str(world_a.charge.public_id), str(fee.public_id)}
    assert ids("") == both
    assert ids("kind=LATE_CANCELLATION") == {str(fee.public_id)}
    assert ids(f"customer={world_a.customer.public_id}") == {str(world_a.charge.public_id)}
    assert ids(f"appointment={world_a.other_appointment.public_id}") == {str(fee.public_id)}
    assert ids("status=PAID") == set()
    assert ids("status=PAID&status=PENDING") == both
    assert ids("start=2999-01-01T00:00:00Z") == set()
    assert_error(client.get("/api/charges/?kind=TIP"), 400, "invalid", "kind")
    assert_error(client.get("/api/charges/?status=OWED"), 400, "invalid", "status")
    assert_error(client.get("/api/charges/?customer=nobody"), 400, "invalid", "customer")
    assert_error(client.get("/api/charges/?start=yesterday"), 400, "invalid", "start")


def test_the_revenue_summary_adds_up_by_status_and_kind(world_a):
    fee = charge_create(
        appointment=world_a.other_appointment, kind="LATE_CANCELLATION", amount=Decimal("5.00"),
        actor=world_a.owner,
    )  # fmt: skip
    charge_set_status(charge=world_a.charge, status="PAID", actor=world_a.owner)
    summary = revenue_summary()
    assert summary["count"] == 2
    assert (summary["paid"], summary["outstanding"]) == (Decimal("40.00"), Decimal("5.00"))
    assert (summary["appointments"], summary["late_cancellation_fees"]) == (
        Decimal("40.00"), Decimal("5.00"),
    )  # fmt: skip
    charge_set_status(charge=fee, status="VOID", actor=world_a.owner)
    summary = revenue_summary()
    assert (summary["void"], summary["late_cancellation_fees"]) == (Decimal("5.00"), Decimal("0"))
    later = revenue_summary(start=timezone.now() + timedelta(days=1))
    assert (later["count"], later["paid"]) == (0, Decimal("0.00"))


def test_the_summary_over_the_api_and_its_period(api, world_a):
    client = api(HOST_A, world_a.owner)
    body = client.get("/api/billing/summary/").json()
    assert (body["count"], body["outstanding"], body["paid"]) == (1, "40.00", "0.00")
    empty = client.get("/api/billing/summary/?start=2999-01-01T00:00:00Z").json()
    assert empty["count"] == 0
    wrong = client.get("/api/billing/summary/?start=2026-05-02T00:00:00Z&end=2026-05-01T00:00:00Z")
    assert_error(wrong, 400, "invalid", "end")
    naive = client.get("/api/billing/summary/?start=2026-05-01T00:00:00")
    assert_error(naive, 400, "invalid", "start")


# --- the cancellation policy ----------------------------------------------------------------


def test_the_owner_reads_and_changes_the_policy(api, world_a, last_audit_id):
    client = api(HOST_A, world_a.owner)
    assert client.get("/api/billing/settings/").status_code == 200
    changed = client.patch(
        "/api/billing/settings/",
        {"cancellation_window_hours": 12, "late_cancellation_fee_percent": "30.00"},
        format="json",
    )
    assert changed.status_code == 200, changed.json()
    assert changed.json() == {
        "cancellation_window_hours": 12, "late_cancellation_fee_percent": "30.00",
    }  # fmt: skip
    tenant = Tenant.objects.get(pk=world_a.tenant.pk)
    assert (tenant.cancellation_window_hours, tenant.late_cancellation_fee_percent) == (
        12, Decimal("30.00"),
    )  # fmt: skip
    (row,) = audit_rows_after(last_audit_id, "tenant_updated")
    assert row.details["fields"] == ["cancellation_window_hours", "late_cancellation_fee_percent"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"late_cancellation_fee_percent": "100.01"}, "late_cancellation_fee_percent"),
        ({"late_cancellation_fee_percent": "-1"}, "late_cancellation_fee_percent"),
        ({"cancellation_window_hours": -1}, "cancellation_window_hours"),
        ({"cancellation_window_hours": 24 * 30 + 1}, "cancellation_window_hours"),
        ({"cancellation_window_hours": "soon"}, "cancellation_window_hours"),
    ],
)
def test_an_invalid_policy_is_a_400_naming_the_field(api, world_a, body, field):
    before = Tenant.objects.values_list(
        "cancellation_window_hours", "late_cancellation_fee_percent"
    ).get(pk=world_a.tenant.pk)
    response = api(HOST_A, world_a.owner).patch("/api/billing/settings/", body, format="json")
    assert_error(response, 400, "invalid", field)
    after = Tenant.objects.values_list(
        "cancellation_window_hours", "late_cancellation_fee_percent"
    ).get(pk=world_a.tenant.pk)
    assert after == before


# --- who may read and change billing --------------------------------------------------------


@pytest.mark.parametrize("role", ["manager", "staff"])
def test_managers_and_staff_reach_no_billing(api, world_a, role):
    client = api(HOST_A, getattr(world_a, role))
    charge = f"/api/charges/{world_a.charge.public_id}/"
    for response in (
        client.get("/api/charges/"),
        client.get(charge),
        client.patch(charge, {"status": "PAID"}, format="json"),
    ):
        error = assert_error(response, 403, "permission_denied")
        assert error["message"].startswith(BILLING_REFUSAL[:-1])
    for response in (
        client.get("/api/billing/summary/"),
        client.get("/api/billing/settings/"),
        client.patch("/api/billing/settings/", {"cancellation_window_hours": 1}, format="json"),
    ):
        error = assert_error(response, 403, "permission_denied")
        assert error["message"] == BILLING_REFUSAL
    world_a.charge.refresh_from_db()
    assert world_a.charge.status == "PENDING"


def test_a_customer_reads_its_own_charges_only_and_changes_none(api, world_a):
    others = charge_create(
        appointment=world_a.other_appointment, kind="LATE_CANCELLATION", amount=Decimal("5.00"),
        actor=world_a.owner,
    )  # fmt: skip
    client = api(HOST_A, world_a.customer_user)
    listed = client.get("/api/charges/").json()["results"]
    assert [c["id"] for c in listed] == [str(world_a.charge.public_id)]
    error = assert_error(client.get(f"/api/charges/{others.public_id}/"), 404, "not_found")
    assert error["message"] == "No such charge."
    own = client.patch(
        f"/api/charges/{world_a.charge.public_id}/", {"status": "PAID"}, format="json"
    )
    error = assert_error(own, 403, "permission_denied")
    assert error["message"] == BILLING_CHANGE_REFUSAL
    assert_error(client.get("/api/billing/summary/"), 403, "permission_denied")
    assert_error(client.get("/api/billing/settings/"), 403, "permission_denied")
    world_a.charge.refresh_from_db()
    assert world_a.charge.status == "PENDING"


def test_platform_support_needs_a_grant_for_billing(api, world_a, make_user):
    client = api(HOST_A, make_user("PLATFORM_SUPPORT"), issued_on="public")
    assert_error(client.get("/api/charges/"), 403, "permission_denied")
    assert_error(client.get("/api/billing/summary/"), 403, "permission_denied")


def test_a_superuser_reads_and_changes_billing_here(api, world_a, make_user):
    client = api(HOST_A, make_user("SUPERUSER"), issued_on="public")
    assert client.get("/api/billing/summary/").json()["count"] == 1
    paid = client.patch(
        f"/api/charges/{world_a.charge.public_id}/", {"status": "PAID"}, format="json"
    )
    assert paid.status_code == 200 and paid.json()["status"] == "PAID"


def test_another_tenants_owner_reaches_no_billing_here(api, world_a, world_b):
    foreign = api(HOST_A, world_b.owner, issued_on="beta")
    assert_error(foreign.get("/api/charges/"), 401, "wrong_host")
    assert_error(foreign.get("/api/billing/settings/"), 401, "wrong_host")
    on_b = api(HOST_B, world_b.owner)
    url = f"/api/charges/{world_a.charge.public_id}/"
    assert_error(on_b.get(url), 404, "not_found")
    assert_error(on_b.patch(url, {"status": "VOID"}, format="json"), 404, "not_found")
    # B's own policy changes B only.
    on_b.patch("/api/billing/settings/", {"cancellation_window_hours": 1}, format="json")
    assert Tenant.objects.get(pk=world_a.tenant.pk).cancellation_window_hours != 1


def test_visible_charges_follow_the_role(world_a, make_user, tenant_b):
    from billing.permissions import visible_charges
    from billing.selectors import charge_list

    others = charge_create(
        appointment=world_a.other_appointment, kind="LATE_CANCELLATION", amount=Decimal("5.00"),
        actor=world_a.owner,
    )  # fmt: skip

    def seen(user) -> set[int]:
        visible = visible_charges(charge_list(), user=user, tenant=world_a.tenant)
        return set(visible.values_list("pk", flat=True))

    every = {world_a.charge.pk, others.pk}
    assert seen(world_a.owner) == seen(make_user("SUPERUSER")) == every
    assert seen(world_a.customer_user) == {world_a.charge.pk}
    for nobody in (
        world_a.manager, world_a.staff, make_user("PLATFORM_SUPPORT"),
        make_user("TENANT_OWNER", tenant_b),
    ):  # fmt: skip
        assert seen(nobody) == set(), nobody.role
