"""Scheduling benchmarks: availability (one busy resource, a two-resource service, the same
through the HTTP API) and booking under concurrency. Each figure is a median over repeats and
is compared with a baseline measured in the same run on the same data."""

from __future__ import annotations

import contextlib
import random
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connections
from django.test import Client
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from appointments.models import Allocation, Appointment, Blocker
from appointments.selectors import availability_for
from appointments.services import appointment_book
from bench.measure import connection, median_ms, tenant_drop, timed
from catalog.services import service_create
from core.exceptions import Conflict
from customers.models import Customer
from resources.services import resource_create
from tenancy.services import tenant_provision
from users.authentication import TENANT_CLAIM
from users.models import User

SCHEMA = "bench_sched"
HOST = "bench-sched.localhost"
TZ = ZoneInfo("Europe/Berlin")
OWNER_EMAIL = "bench-owner@bench.invalid"
OVERLAPS_SQL = """
    SELECT count(*) FROM appointments_allocation a JOIN appointments_allocation b
      ON a.id < b.id AND a.resource_id = b.resource_id AND a.is_live AND b.is_live
     AND tstzrange(a.starts_at, a.ends_at, '[)') && tstzrange(b.starts_at, b.ends_at, '[)')
"""


def _drop() -> None:
    connection.set_schema_to_public()
    User.objects.filter(email=OWNER_EMAIL).delete()
    tenant_drop(SCHEMA)


def _every_day(start: int, end: int) -> list[dict[str, Any]]:
    return [{"weekday": d, "start_time": clock(start), "end_time": clock(end)} for d in range(7)]


class World:
    """The bench tenant: a stylist with 500 appointments over 31 days, rooms, two services."""

    def __init__(self) -> None:
        _drop()
        self.tenant = tenant_provision(
            name="Bench", schema_name=SCHEMA, domain=HOST, subscription_tier="ENTERPRISE",
            timezone="Europe/Berlin",
        )  # fmt: skip
        self.owner = User.objects.create_user(
            email=OWNER_EMAIL, password=None, role="TENANT_OWNER", tenant=self.tenant
        )
        connection.set_tenant(self.tenant)
        make = lambda name, kind, hours: resource_create(  # noqa: E731
            tenant=self.tenant, actor=self.owner, name=name, type=kind, working_hours=hours
        )
        self.stylist = make("Busy stylist", "STAFF", _every_day(8, 20))
        self.room = make("Room 1", "ROOM", _every_day(8, 20))
        self.room2 = make("Room 2", "ROOM", _every_day(10, 16))
        self.contested = make("Contested chair", "EQUIPMENT", _every_day(0, 23))
        self.scratch = make("Insert target", "EQUIPMENT", _every_day(0, 23))
        self.single = service_create(
            actor=self.owner, name="Cut", duration_minutes=30, price=Decimal("30"),
            buffer_before_minutes=5, buffer_after_minutes=5, max_advance_days=365,
            requirements=[{"resource_type": "STAFF", "eligible_resources": [self.stylist]}],
        )  # fmt: skip
        self.double = service_create(
            actor=self.owner, name="Treatment", duration_minutes=45, price=Decimal("60"),
            max_advance_days=365,
            requirements=[
                {"resource_type": "STAFF", "eligible_resources": [self.stylist]},
                {"resource_type": "ROOM", "eligible_resources": [self.room, self.room2]},
            ],
        )  # fmt: skip
        self.race = service_create(
            actor=self.owner, name="Race", duration_minutes=60, price=Decimal("10"),
            max_advance_days=365,
            requirements=[{"resource_type": "EQUIPMENT", "eligible_resources": [self.contested]}],
        )  # fmt: skip
        self.customer = Customer.objects.create(name="Bench customer")
        # Plain inserts of the baseline need a holder; this blocker itself holds nothing.
        self.scratch_blocker = Blocker.objects.create(
            resource=self.scratch, starts_at=timezone.now(), ends_at=timezone.now() + timedelta(1)
        )
        self.first_day = (timezone.now().astimezone(TZ) + timedelta(days=1)).date()
        self._fill_500_appointments()

    def _fill_500_appointments(self) -> None:
        """500 appointments over 31 days, 16-17 a day, 40-minute holds back to back from 08:00,
        plus a one-hour room blocker every day at noon."""
        per_day: dict[int, int] = {}
        appointments, holds = [], []
        for i in range(500):
            day = i * 31 // 500
            k = per_day[day] = per_day.get(day, -1) + 1
            start = datetime.combine(
                self.first_day + timedelta(days=day), clock(8), tzinfo=TZ
            ) + timedelta(minutes=40 * k + 5)
            appointments.append(
                Appointment(
                    customer=self.customer,
                    service=self.single,
                    starts_at=start,
                    ends_at=start + timedelta(minutes=30),
                    price=Decimal("30"),
                    status="CONFIRMED",
                )
            )
        Appointment.objects.bulk_create(appointments)
        for appointment in appointments:
            holds.append(
                Allocation(
                    resource=self.stylist,
                    appointment=appointment,
                    starts_at=appointment.starts_at - timedelta(minutes=5),
                    ends_at=appointment.ends_at + timedelta(minutes=5),
                )
            )
        Allocation.objects.bulk_create(holds)

    def availability(self, service: Any) -> Any:
        return availability_for(
            service=service, date_from=self.first_day,
            date_to=self.first_day + timedelta(days=30), tz=TZ, now=timezone.now(),
            step_minutes=15,
        )  # fmt: skip

    def token(self) -> str:
        refresh = RefreshToken.for_user(self.owner)
        refresh[TENANT_CLAIM] = SCHEMA
        return f"Bearer {refresh.access_token}"


def _raw_fetch(world: World, resources: list[Any]) -> None:
    lo = datetime.combine(world.first_day, clock(0), tzinfo=TZ)
    list(
        Allocation.objects.filter(
            resource__in=resources, is_live=True, starts_at__lt=lo + timedelta(days=31),
            ends_at__gt=lo,
        ).values_list("resource_id", "starts_at", "ends_at")
    )  # fmt: skip


def bench_availability(world: World, repeats: int) -> list[dict[str, Any]]:
    results = []
    for name, service, resources, what in (
        ("availability_one_resource", world.single, [world.stylist],
         "31 days of free starts (15-minute grid) for a resource holding 500 appointments"),
        ("availability_two_resources", world.double, [world.stylist, world.room, world.room2],
         "31 days of free starts of a service needing the busy stylist AND one of two rooms"),
    ):  # fmt: skip
        world.availability(service)  # warm up
        samples = [timed(partial(world.availability, service)) for _ in range(repeats)]
        baseline = [timed(partial(_raw_fetch, world, resources)) for _ in range(repeats)]
        slots = len(world.availability(service).slots)
        median, base = median_ms(samples), median_ms(baseline)
        results.append(
            {
                "name": name,
                "what": what,
                "repeats": repeats,
                "slots_found": slots,
                "median_ms": median,
                "baseline": "only fetching the same resources' allocations for the range (one "
                "query, no arithmetic): the floor any algorithm pays",
                "baseline_median_ms": base,
                "ratio_to_baseline": round(median / base, 3),
            }
        )
    return results


def bench_http(world: World, repeats: int) -> dict[str, Any]:
    client = Client(HTTP_HOST=HOST, HTTP_AUTHORIZATION=world.token())
    query = {
        "service": str(world.single.public_id),
        "start": str(world.first_day),
        "end": str(world.first_day + timedelta(days=30)),
    }

    def get() -> None:
        response = client.get("/api/availability/", query)
        if response.status_code != 200:
            raise RuntimeError(f"availability answered {response.status_code}")

    get()
    samples = [timed(get) for _ in range(repeats)]
    connection.set_tenant(world.tenant)
    direct = [timed(lambda: world.availability(world.single)) for _ in range(repeats)]
    median, base = median_ms(samples), median_ms(direct)
    return {
        "name": "availability_http",
        "what": "GET /api/availability/ for 31 days of the busy resource: JWT auth, host "
        "routing, validation, JSON (in-process WSGI client, no network)",
        "repeats": repeats,
        "median_ms": median,
        "baseline": "the selector called directly on the same data",
        "baseline_median_ms": base,
        "ratio_to_baseline": round(median / base, 3),
    }


def _in_threads(clients: int, work: Callable[[int], list[float]]) -> tuple[float, list[float]]:
    barrier = threading.Barrier(clients)

    def run(index: int) -> list[float]:
        try:
            barrier.wait()
            return work(index)
        finally:
            connections.close_all()

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        latencies = [x for chunk in pool.map(run, range(clients)) for x in chunk]
    return time.perf_counter() - started, latencies


def bench_booking(world: World, repeats: int, clients: int = 8, slots: int = 40) -> dict[str, Any]:
    day = world.first_day + timedelta(days=40)
    starts = [
        datetime.combine(day + timedelta(days=i // 20), clock(0), tzinfo=TZ)
        + timedelta(hours=i % 20)
        for i in range(slots)
    ]
    attempts = clients * slots
    booking_rates, insert_rates, latencies, overlaps, wins = [], [], [], [], []

    def book(index: int) -> list[float]:
        connection.set_tenant(world.tenant)
        order = list(starts)
        random.Random(index).shuffle(order)
        spent = []
        for start in order:
            began = time.perf_counter()
            with contextlib.suppress(Conflict):  # losing the race is the expected outcome
                appointment_book(
                    tenant=world.tenant, actor=world.owner, service=world.race,
                    customer=world.customer, starts_at=start, resources=[world.contested],
                )  # fmt: skip
            spent.append(time.perf_counter() - began)
        return spent

    def insert(index: int) -> list[float]:
        connection.set_tenant(world.tenant)
        base = datetime.combine(day, clock(0), tzinfo=TZ) + timedelta(days=400 + index * 50)
        blocker = world.scratch_blocker
        spent = []
        for i in range(slots):
            began = time.perf_counter()
            Allocation.objects.create(
                resource=world.scratch, blocker=blocker,
                starts_at=base + timedelta(hours=i), ends_at=base + timedelta(hours=i, minutes=59),
            )  # fmt: skip
            spent.append(time.perf_counter() - began)
        return spent

    for _ in range(repeats):
        elapsed, spent = _in_threads(clients, book)
        booking_rates.append(attempts / elapsed)
        latencies.extend(spent)
        connection.set_tenant(world.tenant)
        with connection.cursor() as cursor:
            cursor.execute(OVERLAPS_SQL)
            overlaps.append(cursor.fetchone()[0])
        wins.append(Allocation.objects.filter(resource=world.contested, is_live=True).count())
        Allocation.objects.filter(resource=world.contested).delete()
        Appointment.objects.filter(service=world.race).delete()

        elapsed, _ = _in_threads(clients, insert)
        insert_rates.append(attempts / elapsed)
        connection.set_tenant(world.tenant)
        Allocation.objects.filter(resource=world.scratch).delete()
    booking, plain = statistics.median(booking_rates), statistics.median(insert_rates)
    return {
        "name": "booking_concurrency",
        "what": f"{clients} concurrent clients (threads, one connection each) each try to book "
        f"the same {slots} one-hour slots of one resource in their own random order",
        "repeats": repeats,
        "clients": clients,
        "attempts_per_repeat": attempts,
        "bookings_won_per_repeat": wins,
        "overlapping_allocations_after_each_repeat": overlaps,
        "median_attempts_per_second": round(booking, 1),
        "median_attempt_latency_ms": median_ms(latencies),
        "baseline": f"plain INSERTs of {attempts} non-overlapping rows into the same allocation "
        f"table by the same {clients} threads",
        "baseline_median_inserts_per_second": round(plain, 1),
        "ratio_to_baseline": round(booking / plain, 3),
    }


def run(repeats: int = 30) -> list[dict[str, Any]]:
    world = World()
    try:
        results = bench_availability(world, repeats)
        results.append(bench_http(world, repeats))
        connection.set_tenant(world.tenant)
        results.append(bench_booking(world, repeats=max(3, repeats // 5)))
        if any(results[-1]["overlapping_allocations_after_each_repeat"]):
            raise AssertionError("double booking detected")
        if results[-1]["bookings_won_per_repeat"] != [40] * len(
            results[-1]["bookings_won_per_repeat"]
        ):
            raise AssertionError("every slot must be won exactly once")
        return results
    finally:
        _drop()
