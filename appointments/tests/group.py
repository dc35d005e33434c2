"""Issue 13 test helpers: a class-like group service and round-the-clock resources in a
given timezone, added to a world (``appointments.tests.world``)."""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django_tenants.utils import tenant_context

from appointments.services.series import series_book
from appointments.services.waitlist import waitlist_join
from catalog.models import Service
from catalog.services import service_create
from customers.models import Customer
from resources.models import Resource
from resources.services import resource_create

AROUND_THE_CLOCK = [
    {"weekday": d, "start_time": time(0), "end_time": time(23, 59)} for d in range(7)
]


def studio(world: Any, *, name: str = "Studio", timezone: str | None = None) -> Resource:
    return resource_create(
        tenant=world.tenant, actor=world.owner, name=name, type="ROOM",
        timezone=timezone or world.tenant.timezone, working_hours=AROUND_THE_CLOCK,
    )  # fmt: skip


def group_service(
    world: Any, *, capacity: int, rooms: list[Resource], allow_multiple_seats: bool = False
) -> Service:
    return service_create(
        actor=world.owner, name=f"Class of {capacity}", duration_minutes=60,
        price=Decimal("15.00"), capacity=capacity, allow_multiple_seats=allow_multiple_seats,
        max_advance_days=400,
        requirements=[{"resource_type": "ROOM", "eligible_resources": rooms}],
    )  # fmt: skip


def one_to_one_service(world: Any, *, rooms: list[Resource]) -> Service:
    return service_create(
        actor=world.owner, name="Private lesson", duration_minutes=60, price=Decimal("30.00"),
        max_advance_days=400,
        requirements=[{"resource_type": "ROOM", "eligible_resources": rooms}],
    )  # fmt: skip


def customers(count: int, prefix: str = "Guest") -> list[Customer]:
    return [Customer.objects.create(name=f"{prefix} {i}") for i in range(count)]


def issue13_objects(world: Any) -> tuple[Any, Any]:
    """A series (the customer's, on the staff member's stylist) and a waitlist entry (the
    customer's, for the full 10:00 haircut) of ``world``, made once, in its schema."""
    cached = getattr(world, "_issue13", None)
    if cached is not None:
        return cached
    with tenant_context(world.tenant):
        booked = series_book(
            tenant=world.tenant, actor=world.owner, service=world.cut, customer=world.customer,
            starts_at=world.at(17, days=1), rule="FREQ=DAILY;COUNT=2",
            tz=ZoneInfo(world.tenant.timezone), resources=[world.stylist],
        )  # fmt: skip
        entry = waitlist_join(
            tenant=world.tenant, actor=world.owner, service=world.cut, customer=world.customer,
            starts_at=world.at(10),
        )  # fmt: skip
    world._issue13 = (booked.series, entry)
    return world._issue13
