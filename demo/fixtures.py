"""A realistic week for the demo tenant: a salon with two stylists, a treatment room, services,
customers, and appointments in every status, around the day it is seeded. ``seed_demo`` calls
``demo_week_seed``.

Idempotent: the seed is one transaction, and a tenant that already has the demo services is left
as it is.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from appointments.services import (
    appointment_book,
    appointment_transition,
    blocker_create,
)
from catalog.models import Service
from catalog.services import service_create
from core.db.connection import connection
from core.exceptions import DomainError
from customers.models import Customer
from resources.models import Resource
from resources.services import ical_token_rotate, resource_create
from tenancy.models import Tenant
from users.models import User
from users.roles import Role

STAFF_EMAIL = "staff@demo.localhost"
CUSTOMER_EMAIL = "customer@demo.localhost"
WEEKDAYS_9_TO_18 = [{"weekday": d, "start_time": clock(9), "end_time": clock(18)} for d in range(6)]
CUSTOMERS = [
    ("Mia Jones", "mia@example.com", "+44 20 7946 0001", ["vip"]),
    ("Noah Smith", "noah@example.com", "+44 20 7946 0002", []),
    ("Olivia Brown", "olivia@example.com", "+44 20 7946 0003", ["colour"]),
    ("Liam Wilson", "liam@example.com", "+44 20 7946 0004", []),
    ("Ava Taylor", "ava@example.com", "+44 20 7946 0005", ["new"]),
]
# (opening day relative to today: -3 is three opening days ago, 1 the next one; hour, minute,
# service key, customer index, stylist index, final status). Nothing is booked today, so the
# statuses fit the clock whatever the hour: what is past has happened, what is ahead is open.
DAYS = [
    (-3, 9, 0, "cut", 0, 0, "COMPLETED"),
    (-3, 10, 30, "colour", 1, 1, "COMPLETED"),
    (-3, 14, 0, "beard", 3, 0, "NO_SHOW"),
    (-2, 9, 30, "cut", 2, 1, "COMPLETED"),
    (-2, 11, 0, "facial", 4, 0, "COMPLETED"),
    (-2, 15, 0, "cut", 0, 1, "CANCELLED"),
    (-1, 10, 0, "colour", 0, 0, "COMPLETED"),
    (-1, 13, 30, "cut", 1, 1, "COMPLETED"),
    (1, 9, 0, "beard", 3, 1, "PENDING"),
    (1, 12, 0, "facial", 2, 0, "CONFIRMED"),
    (2, 10, 0, "cut", 4, 0, "PENDING"),
    (2, 16, 0, "colour", 2, 1, "PENDING"),
    (3, 9, 0, "cut", 3, 0, "CONFIRMED"),
    (3, 11, 0, "facial", 0, 1, "PENDING"),
]
OFFSETS = sorted({day for day, *_ in DAYS})
PATHS = {
    "PENDING": [],
    "CONFIRMED": ["CONFIRMED"],
    "COMPLETED": ["CONFIRMED", "COMPLETED"],
    "NO_SHOW": ["CONFIRMED", "NO_SHOW"],
    "CANCELLED": ["CANCELLED"],
}


def opening_day(today: date, offset: int) -> date:
    """The ``offset``-th day the salon opens (Monday to Saturday) after ``today`` (before it, if
    negative)."""
    step = 1 if offset > 0 else -1
    day = today
    for _ in range(abs(offset)):
        day += timedelta(days=step)
        while day.weekday() == 6:  # closed on Sundays
            day += timedelta(days=step)
    return day


@transaction.atomic
def demo_week_seed(*, tenant: Tenant, now: datetime | None = None) -> bool:
    """Fill ``tenant`` with a week of salon life around today: three opening days behind it,
    three ahead. Returns False when it was already seeded."""
    connection.set_tenant(tenant)
    try:
        if Service.objects.filter(name="Haircut").exists():
            return False
        return _seed(tenant, now or timezone.now())
    finally:
        connection.set_schema_to_public()


def _seed(tenant: Tenant, now: datetime) -> bool:
    owner = User.objects.filter(tenant=tenant, role=Role.TENANT_OWNER).first()
    if owner is None:  # seed_demo creates the owner first
        raise DomainError(f"{tenant.name} has no owner to book its demo week.")
    staff = User.objects.filter(tenant=tenant, email=STAFF_EMAIL).first()
    customer_user = User.objects.filter(tenant=tenant, email=CUSTOMER_EMAIL).first()

    def resource(name: str, kind: str, user: User | None = None) -> Resource:
        return resource_create(
            tenant=tenant, actor=owner, name=name, type=kind, user=user,
            working_hours=WEEKDAYS_9_TO_18,
        )  # fmt: skip

    stylists = [resource("Sam (stylist)", "STAFF", staff), resource("Alex (stylist)", "STAFF")]
    room = resource("Treatment room", "ROOM")
    resource("Hair dryer hood", "EQUIPMENT")
    ical_token_rotate(resource=stylists[0], actor=owner)  # the staff member's calendar feed
    any_stylist = {"resource_type": "STAFF", "eligible_resources": stylists}
    services = {
        "cut": service_create(
            actor=owner, name="Haircut", description="Wash, cut and style.",
            duration_minutes=45, price=Decimal("35.00"), buffer_after_minutes=15,
            requirements=[any_stylist],
        ),
        "colour": service_create(
            actor=owner, name="Colour", description="Full colour with toner.",
            duration_minutes=90, price=Decimal("85.00"), buffer_before_minutes=10,
            buffer_after_minutes=15, min_notice_minutes=24 * 60, requirements=[any_stylist],
        ),
        "beard": service_create(
            actor=owner, name="Beard trim", duration_minutes=20, price=Decimal("15.00"),
            requirements=[any_stylist],
        ),
        "facial": service_create(
            actor=owner, name="Facial", description="Cleanse, mask and massage.",
            duration_minutes=60, price=Decimal("60.00"), buffer_after_minutes=10,
            requirements=[any_stylist, {"resource_type": "ROOM", "eligible_resources": [room]}],
        ),
    }  # fmt: skip
    customers = [
        Customer.objects.create(name=name, email=email, phone=phone, tags=tags)
        for name, email, phone, tags in CUSTOMERS
    ]
    if customer_user is not None:
        customers[0].user = customer_user
        customers[0].email = customer_user.email
        customers[0].save()

    tz = ZoneInfo(tenant.timezone)
    today = now.astimezone(tz).date()
    days = {offset: opening_day(today, offset) for offset in OFFSETS}
    # Everything was booked (and confirmed or cancelled) by phone two days before the first one.
    booked_at = datetime.combine(days[OFFSETS[0]] - timedelta(days=2), clock(0), tzinfo=tz)
    for index, offset in enumerate(OFFSETS):  # lunch breaks
        lunch = datetime.combine(days[offset], clock(12, 30), tzinfo=tz)
        blocker_create(
            tenant=tenant, actor=owner, resource=stylists[index % 2], starts_at=lunch,
            ends_at=lunch + timedelta(minutes=30), title="Lunch",
        )  # fmt: skip
    for offset, hour, minute, key, who, stylist, status in DAYS:
        start = datetime.combine(days[offset], clock(hour, minute), tzinfo=tz)
        appointment, _ = appointment_book(
            tenant=tenant, actor=owner, service=services[key], customer=customers[who],
            starts_at=start, resources=_named(services[key], stylists[stylist], room),
            notes="Booked by phone" if who % 2 else "", now=booked_at,
        )  # fmt: skip
        for step in PATHS[status]:
            finished = step in ("COMPLETED", "NO_SHOW")
            appointment = appointment_transition(
                tenant=tenant, actor=owner, appointment=appointment, to=step,
                now=start + timedelta(hours=2) if finished else booked_at,
            )  # fmt: skip
    return True


def _named(service: Service, stylist: Resource, room: Resource) -> list[Resource]:
    return [stylist, room] if service.requirements.count() == 2 else [stylist]
