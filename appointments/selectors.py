"""Reads of the schedule: calendars for the availability algorithm, and appointment lists."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import (
    BigIntegerField,
    F,
    Func,
    Model,
    Prefetch,
    Q,
    QuerySet,
    prefetch_related_objects,
)
from django.db.models.functions import Now

from appointments.availability import (
    ResourceCalendar,
    Slot,
    free_slots,
    local_open_intervals,
    merge,
    subtract,
    to_epoch,
)
from appointments.models import (
    Allocation,
    Appointment,
    AppointmentSeries,
    AppointmentStatus,
    Blocker,
    GroupSession,
    WaitlistEntry,
)
from catalog.models import Service, ServiceResourceOverride
from closures.models import Closure
from closures.selectors import closures_between
from resources.models import DateOverride, Resource, WorkingHours

MAX_RANGE_DAYS = 62


def service_requirements(service: Service) -> list[list[Resource]]:
    """The active eligible resources of each requirement, in requirement order (two queries)."""
    requirements = service.requirements.prefetch_related(
        Prefetch(
            "eligible_resources",
            queryset=Resource.objects.filter(is_active=True).order_by("name", "id"),
        )
    )
    return [list(requirement.eligible_resources.all()) for requirement in requirements]


@dataclass(frozen=True)
class ServiceTerms:
    """A service's price and duration (seconds), and the resources' own ones for it
    (``catalog.ServiceResourceOverride``). A booking holding several resources that have their
    own takes the highest of their prices and the longest of their durations; resources without
    one take the service's."""

    price: Decimal
    duration: int
    prices: Mapping[int, Decimal]
    durations: Mapping[int, int]

    def duration_for(self, resource_ids: Iterable[int]) -> int:
        own = [self.durations[r] for r in resource_ids if r in self.durations]
        return max(own, default=self.duration)

    def price_for(self, resource_ids: Iterable[int]) -> Decimal:
        own = [self.prices[r] for r in resource_ids if r in self.prices]
        return max(own, default=self.price)

    @property
    def longest(self) -> int:
        return max([self.duration, *self.durations.values()])

    @property
    def shortest(self) -> int:
        return min([self.duration, *self.durations.values()])


def service_terms(service: Service) -> ServiceTerms:
    """The service's price and duration with each resource (one query)."""
    prices, durations = {}, {}
    for resource_id, price, minutes in ServiceResourceOverride.objects.filter(
        service=service
    ).values_list("resource_id", "price", "duration_minutes"):
        if price is not None:
            prices[resource_id] = price
        if minutes is not None:
            durations[resource_id] = minutes * 60
    return ServiceTerms(
        price=service.price,
        duration=service.duration_minutes * 60,
        prices=prices,
        durations=durations,
    )


def _epoch(field: str) -> Func:
    """A timestamp column as whole seconds since the epoch (``to_epoch`` in SQL)."""
    return Func(
        F(field), template="floor(extract(epoch from %(expressions)s))::bigint",
        output_field=BigIntegerField(),
    )  # fmt: skip


def live_allocation() -> Q:
    """Allocations that block now: a slot hold's only until it expires (by the database's clock,
    the one the exclusion constraint's liveness range is written in)."""
    return Q(expires_at__isnull=True) | Q(expires_at__gt=Now())


def resource_calendars(
    *,
    requirements: Sequence[Sequence[Resource]],
    lo: datetime,
    hi: datetime,
    ignore_appointment_id: int | None = None,
    durations: Mapping[int, int] | None = None,
) -> list[list[ResourceCalendar]]:
    """Opening hours and busy time between ``lo`` and ``hi`` of every candidate resource, with
    its own duration for the service (``durations``, seconds) when it has one.

    Three queries whatever the range or the number of resources: weekly hours, date overrides,
    live allocations.
    """
    resources = {r.pk: r for candidates in requirements for r in candidates}
    weekly: dict[int, dict[int, list[tuple[time, time]]]] = defaultdict(lambda: defaultdict(list))
    for hours in WorkingHours.objects.filter(resource_id__in=resources).order_by("start_time"):
        weekly[hours.resource_id][hours.weekday].append((hours.start_time, hours.end_time))

    # Local dates differ from UTC dates by up to a day either way.
    first_day, last_day = (lo - timedelta(days=1)).date(), (hi + timedelta(days=1)).date()
    overrides: dict[int, dict[date, list[tuple[time, time]]]] = defaultdict(dict)
    closed: set[tuple[int, date]] = set()
    for override in DateOverride.objects.filter(
        resource_id__in=resources, date__gte=first_day, date__lte=last_day
    ).order_by("date", "start_time"):
        day_hours = overrides[override.resource_id].setdefault(override.date, [])
        start, end = override.start_time, override.end_time
        if override.is_closed:
            closed.add((override.resource_id, override.date))
        elif start is not None and end is not None:  # always, when open (a check constraint)
            day_hours.append((start, end))
    for resource_id, day in closed:  # one closed row closes the whole day
        overrides[resource_id][day] = []

    busy: dict[int, list[tuple[int, int]]] = defaultdict(list)
    allocations = Allocation.objects.filter(
        resource_id__in=resources, is_live=True, starts_at__lt=hi, ends_at__gt=lo
    ).filter(live_allocation())
    if ignore_appointment_id is not None:
        allocations = allocations.exclude(appointment_id=ignore_appointment_id)
    # As epoch seconds from PostgreSQL: a busy month is a thousand timestamps not parsed.
    for resource_id, starts_at, ends_at in allocations.values_list(
        "resource_id", _epoch("starts_at"), _epoch("ends_at")
    ):
        busy[resource_id].append((starts_at, ends_at))

    calendars: dict[int, ResourceCalendar] = {}
    for pk, resource in resources.items():
        calendars[pk] = ResourceCalendar(
            resource_id=pk,
            open_=local_open_intervals(
                tz=ZoneInfo(resource.timezone),
                first_day=first_day,
                last_day=last_day,
                weekly=weekly[pk],
                overrides=overrides[pk],
            ),
            busy=merge(busy[pk]),
            duration=(durations or {}).get(pk),
        )
    return [[calendars[r.pk] for r in candidates] for candidates in requirements]


@dataclass(frozen=True)
class Availability:
    service: Service
    tz: ZoneInfo
    slots: list[Slot]
    resources: dict[int, Resource]
    closures: list[Closure]


def availability_for(
    *,
    service: Service,
    date_from: date,
    date_to: date,
    tz: ZoneInfo,
    now: datetime,
    step_minutes: int,
) -> Availability:
    """Free starts of ``service`` on the local dates ``date_from``..``date_to`` (in ``tz``)."""
    requirements = service_requirements(service)
    terms = service_terms(service)
    range_start = datetime.combine(date_from, time(0), tzinfo=tz)
    range_end = datetime.combine(date_to + timedelta(days=1), time(0), tzinfo=tz)
    duration = terms.duration
    before, after = service.buffer_before_minutes * 60, service.buffer_after_minutes * 60
    # Holds of slots near the edges reach outside the range by the buffers and the duration.
    reach = timedelta(seconds=terms.longest + before + after)
    calendars = resource_calendars(
        requirements=requirements, lo=range_start - reach, hi=range_end + reach,
        durations=terms.durations,
    )  # fmt: skip
    # A tenant-wide closure closes every resource: no appointment may overlap it (buffers may,
    # as they may reach outside opening hours), exactly what booking enforces.
    closures = closures_between(range_start - reach, range_end + reach)
    closed = merge((to_epoch(c.starts_at), to_epoch(c.ends_at)) for c in closures)
    for calendar in {id(c): c for candidates in calendars for c in candidates}.values():
        calendar.open_ = subtract(calendar.open_, closed)
    earliest = max(to_epoch(range_start), to_epoch(now) + service.min_notice_minutes * 60)
    latest = min(to_epoch(range_end) - 1, to_epoch(now + timedelta(days=service.max_advance_days)))
    slots = free_slots(
        requirements=calendars,
        duration=duration,
        before=before,
        after=after,
        step=step_minutes * 60,
        tz=tz,
        earliest=earliest,
        latest=latest,
    )
    resources = {r.pk: r for candidates in requirements for r in candidates}
    shown = [c for c in closures if c.starts_at < range_end and c.ends_at > range_start]
    return Availability(service=service, tz=tz, slots=slots, resources=resources, closures=shown)


def _allocations_shown() -> Prefetch:
    return Prefetch(
        "allocations",
        queryset=Allocation.objects.select_related("resource").order_by("resource__name"),
    )


def appointment_list() -> QuerySet[Appointment]:
    return Appointment.objects.select_related(
        "customer", "service", "created_by", "session", "series"
    ).prefetch_related(_allocations_shown())


def appointment_locked(pk: int) -> Appointment:
    """The appointment, row-locked for a write in the caller's transaction, with what showing it
    needs joined in (only its own row is locked)."""
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("customer", "service", "created_by", "session", "series")
        .get(pk=pk)
    )


def appointment_with_allocations(appointment: Appointment) -> Appointment:
    """Load ``appointment``'s allocations as ``appointment_list`` shows them (one query). Writes
    call it inside their transaction, so answering reads nothing after the commit."""
    prefetch_related_objects([appointment], _allocations_shown())
    return appointment


def appointment_shown(appointment: Appointment, held: Sequence[Allocation]) -> Appointment:
    """``appointment`` ready to display from rows in hand: ``held`` (its allocations, their
    resources loaded) set as ``appointment_list`` would prefetch them, so showing it reads
    nothing. A booking answers from what it wrote, whatever the database does after the commit.
    """
    allocations = Allocation.objects.filter(appointment=appointment)
    # What prefetch_related itself stores: a queryset already evaluated.
    allocations._result_cache = sorted(held, key=lambda allocation: allocation.resource.name)
    allocations._prefetch_done = True  # type: ignore[attr-defined]  # private: not in the stubs
    _as_prefetched(appointment, allocations=allocations)
    return appointment


def _as_prefetched(instance: Model, **relations: object) -> None:
    """Hand ``instance`` its related rows where ``prefetch_related`` would keep them."""
    # Django's private prefetch cache, which the stubs do not declare.
    instance._prefetched_objects_cache = relations  # type: ignore[attr-defined]


def blocker_list() -> QuerySet[Blocker]:
    return Blocker.objects.select_related("resource")


# --- Issue 13: group sessions, series, waitlist ------------------------------------------------


def open_sessions(*, service: Service, lo: datetime, hi: datetime) -> list[GroupSession]:
    """The open sessions of ``service`` starting in ``[lo, hi)``, their resources loaded."""
    return list(
        GroupSession.objects.filter(
            service=service, is_open=True, starts_at__gte=lo, starts_at__lt=hi
        )
        .prefetch_related(
            Prefetch("allocations", queryset=Allocation.objects.select_related("resource"))
        )
        .order_by("starts_at")
    )


def series_shown(
    series: AppointmentSeries, occurrences: Sequence[Appointment]
) -> AppointmentSeries:
    """``series`` ready to display with ``occurrences`` (as ``appointment_shown`` left them) as
    its occurrences: a series booking answers from what it wrote, reading nothing after the
    commit."""
    _as_prefetched(series, occurrences=occurrences)
    return series


def series_list() -> QuerySet[AppointmentSeries]:
    return AppointmentSeries.objects.select_related("service", "customer", "created_by")


def series_occurrences(series: AppointmentSeries) -> QuerySet[Appointment]:
    return appointment_list().filter(series=series).order_by("occurrence_start", "id")


def series_in_scope(
    series: AppointmentSeries, *, scope: str, occurrence: Appointment | None
) -> list[Appointment]:
    """The occurrences ``scope`` names: ``occurrence`` alone ("this"), it and the later ones
    ("following"), or every one ("all")."""
    occurrences = series_occurrences(series)
    if scope == "this" and occurrence is not None:
        return [a for a in occurrences if a.pk == occurrence.pk]
    if scope == "following" and occurrence is not None:
        return list(occurrences.filter(occurrence_start__gte=occurrence.occurrence_start))
    return list(occurrences)


def waitlist_list() -> QuerySet[WaitlistEntry]:
    return WaitlistEntry.objects.select_related("service", "customer", "appointment")


def appointments_inside(closure: Closure) -> Sequence[Appointment]:
    """The open appointments a closure overlaps: kept, and reported to whoever closes."""
    return list(
        Appointment.objects.filter(
            starts_at__lt=closure.ends_at,
            ends_at__gt=closure.starts_at,
            status__in=[AppointmentStatus.PENDING, AppointmentStatus.CONFIRMED],
        )
        .select_related("customer", "service")
        .order_by("starts_at", "id")
    )
