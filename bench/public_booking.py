"""Public booking benchmarks: what a slot hold costs a guest's booking, and what expired holds
(rows nobody deletes) cost availability. Medians over repeats, each beside a baseline measured in
the same run on the same data."""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import time as clock
from typing import Any

from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone

from appointments.models import Allocation, SlotHold
from appointments.services.guest import guest_book
from appointments.services.slot_holds import slot_hold_create
from bench.measure import connection, median_ms, timed
from bench.scheduling import TZ, World, _drop


def bench_dead_holds(world: World, repeats: int, dead: int = 500) -> dict[str, Any]:
    """31 days of availability for the busy stylist, before and after ``dead`` expired holds
    were written over its time, back to back (live from an hour ago until 55 minutes ago)."""
    world.availability(world.single)
    baseline = [timed(lambda: world.availability(world.single)) for _ in range(repeats)]
    slots_before = len(world.availability(world.single).slots)
    hold = SlotHold.objects.create(
        service=world.single, starts_at=timezone.now(), expires_at=Now() - timedelta(minutes=55)
    )
    first = datetime.combine(world.first_day, clock(8), tzinfo=TZ)
    Allocation.objects.bulk_create(
        Allocation(
            resource=world.stylist, hold=hold,
            starts_at=first + timedelta(minutes=40 * i),
            ends_at=first + timedelta(minutes=40 * i + 40),
            live_from=timezone.now() - timedelta(hours=1),
            expires_at=timezone.now() - timedelta(minutes=55),
        )
        for i in range(dead)
    )  # fmt: skip
    world.availability(world.single)
    samples = [timed(lambda: world.availability(world.single)) for _ in range(repeats)]
    if len(world.availability(world.single).slots) != slots_before:
        raise AssertionError("expired holds must not take any slot")
    median, base = median_ms(samples), median_ms(baseline)
    return {
        "name": "availability_with_expired_holds",
        "what": f"31 days of free starts for the resource with 500 appointments and {dead} "
        "expired slot holds over them (never deleted)",
        "repeats": repeats,
        "median_ms": median,
        "baseline": "the same availability before the expired holds were written",
        "baseline_median_ms": base,
        "ratio_to_baseline": round(median / base, 3),
    }


def bench_liveness_filter(world: World, repeats: int) -> dict[str, Any]:
    """What the hold-expiry condition availability now reads allocations with costs: the same
    availability with it and with it left out, sample after sample (so the machine's load hits
    both alike)."""
    from appointments import selectors

    with_filter, without = [], []
    world.availability(world.single)
    for _ in range(repeats):
        with_filter.append(timed(lambda: world.availability(world.single)))
        original = selectors.live_allocation
        selectors.live_allocation = Q  # an empty condition: every live row, as before holds
        try:
            without.append(timed(lambda: world.availability(world.single)))
        finally:
            selectors.live_allocation = original
    median, base = median_ms(with_filter), median_ms(without)
    return {
        "name": "availability_liveness_condition",
        "what": "31 days of free starts for the resource with 500 appointments, reading only "
        "allocations that block now (a hold's until it expires)",
        "repeats": repeats,
        "median_ms": median,
        "baseline": "the same without the expiry condition (every live row), interleaved",
        "baseline_median_ms": base,
        "ratio_to_baseline": round(median / base, 3),
    }


def bench_hold_then_book(world: World, repeats: int) -> dict[str, Any]:
    """A guest books a slot after holding it (two transactions) vs booking it directly."""
    start = datetime.combine(world.first_day + timedelta(days=40), clock(1), tzinfo=TZ)
    # Twenty one-hour slots a day, inside the chair's opening hours (00:00-23:00).
    slots = iter(start + timedelta(days=i // 20, hours=i % 20) for i in range(10_000))

    def book(hold: Any = None, at: datetime | None = None) -> None:
        guest_book(
            tenant=world.tenant, service=world.race, starts_at=at or next(slots),
            name="Bench guest", email="guest@bench.invalid", hold_id=hold,
        )  # fmt: skip

    def hold_then_book() -> None:
        at = next(slots)
        hold, _ = slot_hold_create(tenant=world.tenant, service=world.race, starts_at=at)
        book(hold=hold.public_id, at=at)

    book()  # the guest's customer record exists from here on: both sides match it
    baseline = [timed(book) for _ in range(repeats)]
    samples = [timed(hold_then_book) for _ in range(repeats)]
    median, base = median_ms(samples), median_ms(baseline)
    return {
        "name": "guest_booking_with_a_hold",
        "what": "a guest holds a slot, then books it with the hold (two requests' services)",
        "repeats": repeats,
        "median_ms": median,
        "baseline": "the same guest booking without a hold",
        "baseline_median_ms": base,
        "ratio_to_baseline": round(median / base, 3),
    }


def run(repeats: int = 30) -> list[dict[str, Any]]:
    world = World()
    try:
        connection.set_tenant(world.tenant)
        results = [bench_liveness_filter(world, repeats)]
        connection.set_tenant(world.tenant)
        results.append(bench_dead_holds(world, repeats))
        connection.set_tenant(world.tenant)
        results.append(bench_hold_then_book(world, repeats))
        return results
    finally:
        _drop()
