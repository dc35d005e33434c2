from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from appointments.models import Allocation, Appointment
from appointments.services import (
    appointment_book,
    appointment_reschedule,
    appointment_transition,
    blocker_create,
)
from billing.models import Charge
from core.exceptions import Conflict, DomainError
from tenancy.models import Tenant

OVERLAPS_SQL = """
    SELECT count(*) FROM appointments_allocation a JOIN appointments_allocation b
      ON a.id < b.id AND a.resource_id = b.resource_id AND a.is_live AND b.is_live
     AND tstzrange(a.starts_at, a.ends_at, '[)') && tstzrange(b.starts_at, b.ends_at, '[)')
"""


def overlapping_allocations() -> int:
    with connection.cursor() as cursor:
        cursor.execute(OVERLAPS_SQL)
        return cursor.fetchone()[0]


def book(world, service=None, start=None, resources=None, **extra):
    return appointment_book(
        tenant=world.tenant,
        actor=world.owner,
        service=service or world.cut,
        customer=world.customer,
        starts_at=start or world.at(14),
        resources=resources,
        **extra,
    )[0]


def test_database_refuses_overlapping_allocations_of_one_resource(world_a):
    held = Allocation.objects.get(appointment=world_a.appointment)
    with pytest.raises(IntegrityError, match="allocation_no_overlap"), transaction.atomic():
        Allocation.objects.create(
            resource=world_a.stylist,
            blocker=world_a.blocker,
            starts_at=held.starts_at + timedelta(minutes=59),
            ends_at=held.ends_at + timedelta(hours=1),
        )


def test_database_allows_back_to_back_and_other_resources_and_dead_rows(world_a):
    held = Allocation.objects.get(appointment=world_a.appointment)
    Allocation.objects.create(
        resource=world_a.stylist, blocker=world_a.blocker, starts_at=held.ends_at,
        ends_at=held.ends_at + timedelta(hours=1),
    )  # fmt: skip
    Allocation.objects.create(
        resource=world_a.room, blocker=world_a.blocker, starts_at=held.starts_at,
        ends_at=held.ends_at,
    )  # fmt: skip
    Allocation.objects.create(
        resource=world_a.stylist, blocker=world_a.blocker, starts_at=held.starts_at,
        ends_at=held.ends_at, is_live=False,
    )  # fmt: skip
    assert overlapping_allocations() == 0


def test_booking_a_busy_named_resource_is_a_conflict_naming_it(world_a):
    with pytest.raises(Conflict) as conflict:
        book(world_a, start=world_a.at(10, 30), resources=[world_a.stylist])
    assert "Ana (stylist)" in conflict.value.message
    assert Appointment.objects.count() == 3


def test_booking_picks_the_free_resource_when_none_is_named(world_a):
    appointment = book(world_a, start=world_a.at(15))
    second = book(world_a, start=world_a.at(15, 30))
    held = {
        a.appointment_id: a.resource_id
        for a in Allocation.objects.filter(appointment__in=[appointment, second])
    }
    assert set(held.values()) == {world_a.stylist.pk, world_a.stylist2.pk}
    with pytest.raises(Conflict):
        book(world_a, start=world_a.at(15, 45))


def test_buffers_are_held_too(world_a):
    # Treatment: 10 minutes before, 5 after; the room is blocked 12:00-13:00.
    with pytest.raises(Conflict):
        book(world_a, service=world_a.treatment, start=world_a.at(13, 5))
    appointment = book(world_a, service=world_a.treatment, start=world_a.at(13, 10))
    spans = {(a.starts_at, a.ends_at) for a in appointment.allocations.all()}
    assert spans == {(world_a.at(13), world_a.at(13, 45))}


def test_two_resource_booking_is_all_or_nothing(world_a):
    blocker_create(
        tenant=world_a.tenant, actor=world_a.owner, resource=world_a.room,
        starts_at=world_a.at(16), ends_at=world_a.at(17),
    )  # fmt: skip
    before = Allocation.objects.count()
    with pytest.raises(Conflict):
        book(world_a, service=world_a.treatment, start=world_a.at(16, 15))
    assert Allocation.objects.count() == before
    appointment = book(world_a, service=world_a.treatment, start=world_a.at(17, 10))
    assert appointment.allocations.count() == 2


@pytest.mark.parametrize(("hour", "minute"), [(19, 30), (7, 0)])
def test_booking_outside_working_hours_is_refused(world_a, hour, minute):
    with pytest.raises(DomainError) as refused:
        book(world_a, start=world_a.at(hour, minute))
    assert refused.value.code == "outside_hours"
    assert refused.value.status_code == 400


def test_notice_and_horizon_are_enforced(world_a):
    world_a.cut.min_notice_minutes = 60 * 24 * 30
    with pytest.raises(DomainError, match="ahead"):
        book(world_a, start=world_a.at(14))
    world_a.cut.min_notice_minutes = 0
    world_a.cut.max_advance_days = 2
    with pytest.raises(DomainError, match="at most 2 days"):
        book(world_a, start=world_a.at(14))


def test_naive_start_is_refused(world_a):
    with pytest.raises(DomainError) as error:
        book(world_a, start=world_a.at(14).replace(tzinfo=None))
    assert "starts_at" in error.value.fields


def test_idempotency_key_replays_the_same_appointment(world_a):
    first = book(world_a, idempotency_key="k-1", request_digest="d")
    again, created = appointment_book(
        tenant=world_a.tenant, actor=world_a.owner, service=world_a.cut,
        customer=world_a.customer, starts_at=world_a.at(14), idempotency_key="k-1",
        request_digest="d",
    )  # fmt: skip
    assert again.pk == first.pk and not created
    with pytest.raises(Conflict, match="different request"):
        book(world_a, start=world_a.at(16), idempotency_key="k-1", request_digest="other")


def test_cancelling_releases_the_time(world_a):
    appointment_transition(
        tenant=world_a.tenant, actor=world_a.owner, appointment=world_a.appointment, to="CANCELLED"
    )
    assert book(world_a, start=world_a.at(10), resources=[world_a.stylist]).pk


@pytest.mark.parametrize(
    ("start", "to"),
    [
        ("PENDING", "COMPLETED"),
        ("PENDING", "NO_SHOW"),
        ("CONFIRMED", "PENDING"),
        ("COMPLETED", "CANCELLED"),
        ("CANCELLED", "CONFIRMED"),
        ("NO_SHOW", "COMPLETED"),
    ],
)
def test_illegal_transitions_are_refused(world_a, start, to):
    Appointment.objects.filter(pk=world_a.appointment.pk).update(status=start)
    with pytest.raises(DomainError) as error:
        appointment_transition(
            tenant=world_a.tenant, actor=world_a.owner, appointment=world_a.appointment, to=to
        )
    assert error.value.status_code == 400
    assert error.value.code == "invalid_transition"
    world_a.appointment.refresh_from_db()
    assert world_a.appointment.status == start


def set_cancellation_policy(tenant, hours, percent):
    Tenant.objects.filter(pk=tenant.pk).update(
        cancellation_window_hours=hours, late_cancellation_fee_percent=percent
    )


def test_late_cancellation_charges_the_tenants_fee(world_a):
    tenant = world_a.tenant
    set_cancellation_policy(tenant, 48, Decimal("25"))
    appointment = world_a.appointment
    appointment_transition(
        tenant=tenant, actor=world_a.owner, appointment=appointment, to="CANCELLED",
        now=appointment.starts_at - timedelta(hours=47),
    )  # fmt: skip
    fee = Charge.objects.get(appointment=appointment)
    assert (fee.kind, fee.amount, fee.status) == ("LATE_CANCELLATION", Decimal("10.00"), "PENDING")


def test_late_cancellation_charges_the_fee_in_force_not_a_cached_copy(world_a):
    stale = Tenant.objects.get(pk=world_a.tenant.pk)  # what another worker's route cache holds
    set_cancellation_policy(world_a.tenant, 48, Decimal("50"))
    assert stale.late_cancellation_fee_percent == 0
    appointment = world_a.appointment
    appointment_transition(
        tenant=stale, actor=world_a.owner, appointment=appointment, to="CANCELLED",
        now=appointment.starts_at - timedelta(hours=47),
    )  # fmt: skip
    assert Charge.objects.get(appointment=appointment).amount == Decimal("20.00")


def test_early_cancellation_is_free(world_a):
    tenant = world_a.tenant
    set_cancellation_policy(tenant, 48, Decimal("25"))
    appointment_transition(
        tenant=tenant, actor=world_a.owner, appointment=world_a.appointment, to="CANCELLED",
        now=world_a.appointment.starts_at - timedelta(hours=49),
    )  # fmt: skip
    assert not Charge.objects.filter(appointment=world_a.appointment).exists()


def test_completion_bills_the_price(world_a):
    appointment_transition(
        tenant=world_a.tenant, actor=world_a.owner, appointment=world_a.appointment, to="COMPLETED"
    )
    charge = Charge.objects.get(appointment=world_a.appointment)
    assert (charge.kind, charge.amount) == ("APPOINTMENT", Decimal("40.00"))


def test_rescheduling_moves_the_hold_and_checks_it(world_a):
    moved = appointment_reschedule(
        tenant=world_a.tenant, actor=world_a.owner, appointment=world_a.appointment,
        starts_at=world_a.at(10, 30),
    )  # fmt: skip
    assert {(a.starts_at, a.resource_id) for a in moved.allocations.all()} == {
        (world_a.at(10, 30), world_a.stylist.pk)
    }
    with pytest.raises(Conflict):
        appointment_reschedule(
            tenant=world_a.tenant, actor=world_a.owner, appointment=world_a.appointment,
            starts_at=world_a.at(10, 15), resources=[world_a.stylist2],
        )  # fmt: skip
    blocker_create(
        tenant=world_a.tenant, actor=world_a.owner, resource=world_a.stylist,
        starts_at=world_a.at(15), ends_at=world_a.at(16),
    )  # fmt: skip
    with pytest.raises(Conflict):
        appointment_reschedule(
            tenant=world_a.tenant, actor=world_a.owner, appointment=world_a.appointment,
            starts_at=world_a.at(15), resources=[world_a.stylist],
        )  # fmt: skip
    assert overlapping_allocations() == 0


def test_blocker_over_an_appointment_is_a_conflict(world_a):
    with pytest.raises(Conflict, match="Ana"):
        blocker_create(
            tenant=world_a.tenant, actor=world_a.owner, resource=world_a.stylist,
            starts_at=world_a.at(9), ends_at=world_a.at(10, 30),
        )  # fmt: skip
