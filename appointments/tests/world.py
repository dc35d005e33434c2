"""A small, realistic business in one tenant's schema, for the scheduling tests.

``build_world(tenant)`` makes people of every tenant role, resources, services, customers and one
of each scheduling record. Callers switch the connection to the tenant first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from zoneinfo import ZoneInfo

from django.utils import timezone

from appointments.models import Appointment, Blocker
from appointments.services import appointment_book, appointment_transition, blocker_create
from billing.models import Charge
from catalog.models import Service
from catalog.services import service_create
from closures.tests.world import world_closure
from customers.models import Customer
from resources.models import DateOverride, Resource, ResourceType
from resources.services import ical_token_rotate, resource_create
from tenancy.models import Tenant
from users.models import User
from users.tests.factories import UserFactory

EVERY_DAY_8_TO_20 = [{"weekday": d, "start_time": time(8), "end_time": time(20)} for d in range(7)]


@dataclass
class World:
    tenant: Tenant
    owner: User
    manager: User
    staff: User
    customer_user: User
    stylist: Resource  # linked to ``staff``
    stylist2: Resource
    room: Resource
    cut: Service  # one STAFF, 60 minutes
    treatment: Service  # one STAFF and one ROOM, buffers 10/5
    customer: Customer  # linked to ``customer_user``
    other_customer: Customer
    appointment: Appointment  # the customer's, with the stylist, CONFIRMED
    other_appointment: Appointment  # other_customer's, with stylist2
    blocker: Blocker
    charge: Charge
    override: DateOverride
    day: date  # a day a week ahead, in the tenant's timezone

    def at(self, hour: int, minute: int = 0, days: int = 0) -> datetime:
        """An aware datetime on ``day`` (+ ``days``) at a local wall-clock time."""
        return local_time(self.tenant, self.day, hour, minute, days)


def local_time(tenant: Tenant, day: date, hour: int, minute: int = 0, days: int = 0) -> datetime:
    """An aware datetime on ``day`` (+ ``days``) at the tenant's local wall-clock time."""
    local = datetime.combine(day + timedelta(days=days), time(hour, minute))
    return local.replace(tzinfo=ZoneInfo(tenant.timezone))


def build_world(tenant: Tenant) -> World:
    owner = UserFactory.create(role="TENANT_OWNER", tenant=tenant)
    manager = UserFactory.create(role="TENANT_MANAGER", tenant=tenant)
    staff = UserFactory.create(role="TENANT_STAFF", tenant=tenant)
    customer_user = UserFactory.create(role="CUSTOMER", tenant=tenant)
    other_customer_user = UserFactory.create(role="CUSTOMER", tenant=tenant)

    def resource(name: str, kind: str, user: User | None = None) -> Resource:
        return resource_create(
            tenant=tenant, actor=owner, name=name, type=kind, user=user,
            working_hours=EVERY_DAY_8_TO_20,
        )  # fmt: skip

    stylist = resource("Ana (stylist)", ResourceType.STAFF, staff)
    stylist2 = resource("Ben (stylist)", ResourceType.STAFF)
    room = resource("Room 1", ResourceType.ROOM)
    ical_token_rotate(resource=stylist, actor=owner)
    cut = service_create(
        actor=owner, name="Haircut", duration_minutes=60, price=Decimal("40.00"),
        requirements=[{"resource_type": "STAFF", "eligible_resources": [stylist, stylist2]}],
    )  # fmt: skip
    treatment = service_create(
        actor=owner, name="Treatment", duration_minutes=30, price=Decimal("70.00"),
        buffer_before_minutes=10, buffer_after_minutes=5,
        requirements=[
            {"resource_type": "STAFF", "eligible_resources": [stylist, stylist2]},
            {"resource_type": "ROOM", "eligible_resources": [room]},
        ],
    )  # fmt: skip
    customer = Customer.objects.create(name="Cara Customer", user=customer_user, email="c@x.test")
    other_customer = Customer.objects.create(name="Otto Other", user=other_customer_user)

    tz = ZoneInfo(tenant.timezone)
    day = (timezone.now().astimezone(tz) + timedelta(days=7)).date()
    at = partial(local_time, tenant, day)
    appointment, _ = appointment_book(
        tenant=tenant, actor=owner, service=cut, customer=customer,
        starts_at=at(10), resources=[stylist],
    )  # fmt: skip
    appointment_transition(tenant=tenant, actor=owner, appointment=appointment, to="CONFIRMED")
    appointment.refresh_from_db()
    other_appointment, _ = appointment_book(
        tenant=tenant, actor=owner, service=cut, customer=other_customer,
        starts_at=at(10), resources=[stylist2],
    )  # fmt: skip
    blocker = blocker_create(
        tenant=tenant, actor=owner, resource=room, starts_at=at(12), ends_at=at(13),
        title="Cleaning",
    )  # fmt: skip
    past = Appointment.objects.create(
        customer=customer, service=cut, starts_at=at(9, days=-30),
        ends_at=at(10, days=-30), price=Decimal("40.00"), status="COMPLETED",
    )  # fmt: skip
    charge = Charge.objects.create(
        appointment=past, customer=customer, kind="APPOINTMENT", amount=Decimal("40.00")
    )
    override = DateOverride.objects.create(
        resource=room, date=day + timedelta(days=3), is_closed=True
    )
    world = World(
        tenant=tenant, owner=owner, manager=manager, staff=staff, customer_user=customer_user,
        stylist=stylist, stylist2=stylist2, room=room, cut=cut, treatment=treatment,
        customer=customer, other_customer=other_customer, appointment=appointment,
        other_appointment=other_appointment, blocker=blocker, charge=charge, override=override,
        day=day,
    )  # fmt: skip
    world_closure(world)  # a tenant-wide closure, far from the day the tests book on
    return world
