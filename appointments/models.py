"""Appointments, time off, and the one table that says who holds which resource when.

Every span of time a resource is held — a live appointment (its buffers included) or a blocker —
is one ``Allocation`` row. A PostgreSQL exclusion constraint over (resource, time range) on the
live rows makes a double booking impossible whatever the application does.
"""

import uuid

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeOperators
from django.db import models
from django.db.models import F, Func, Q, Value
from django.db.models.functions import Now

from catalog.models import Service
from core.models import PublicRecord
from customers.models import Customer
from resources.models import Resource
from users.fields import tenant_user_link

ALLOCATION_EXCLUSION = "allocation_no_overlap"


class AppointmentStatus(models.TextChoices):
    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    COMPLETED = "COMPLETED"
    NO_SHOW = "NO_SHOW"
    CANCELLED = "CANCELLED"


# --- Issue 13: recurring series, group sessions, waitlist (b-series) ---------------------------


class AppointmentSeries(PublicRecord):
    """A recurrence rule (an RFC 5545 RRULE subset) booked as one appointment per occurrence;
    ``first_start`` and the rule are read in ``timezone``'s wall-clock time."""

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="series")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="series")
    rule = models.CharField(max_length=200)
    timezone = models.CharField(max_length=64)
    first_start = models.DateTimeField()
    created_by = tenant_user_link(blank=False)

    class Meta:
        ordering = ["first_start", "id"]

    def __str__(self) -> str:
        return f"{self.service} for {self.customer}: {self.rule}"


class GroupSession(PublicRecord):
    """One sitting of a group service: its resources held once (allocations), its seats taken
    by appointments. ``seats_taken`` only moves by conditional updates, and the CHECK keeps it
    within the capacity whatever runs concurrently."""

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="sessions")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    capacity = models.PositiveIntegerField()
    seats_taken = models.PositiveIntegerField(default=0)
    # Closed once its last seat is released: its resources are free again.
    is_open = models.BooleanField(default=True)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(seats_taken__gte=0, seats_taken__lte=F("capacity")),
                name="session_seats_within_capacity",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="session_ends_after_start"
            ),
            models.UniqueConstraint(
                fields=["service", "starts_at"],
                condition=Q(is_open=True),
                name="session_one_open_per_start",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.service} at {self.starts_at.isoformat()} ({self.seats_taken}/{self.capacity})"
        )


class WaitlistStatus(models.TextChoices):
    WAITING = "WAITING"
    OFFERED = "OFFERED"
    CLAIMED = "CLAIMED"
    EXPIRED = "EXPIRED"
    LEFT = "LEFT"


class WaitlistEntry(PublicRecord):
    """A customer waiting for a full slot or session of a service; offered a freed place
    first come, first served, with a time-limited claim link."""

    Status = WaitlistStatus

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="waitlist")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="waitlist")
    starts_at = models.DateTimeField()
    status = models.CharField(
        max_length=16, choices=WaitlistStatus.choices, default=WaitlistStatus.WAITING
    )
    offered_at = models.DateTimeField(null=True, blank=True)
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    # The freed seat of a group session is kept for the offer until it is claimed or expires.
    reserves_seat = models.BooleanField(default=False)
    appointment = models.ForeignKey(
        "Appointment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = tenant_user_link(blank=False)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["service", "starts_at", "status", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in WaitlistStatus]),
                name="waitlist_status_valid",
            ),
            models.UniqueConstraint(
                fields=["service", "starts_at", "customer"],
                condition=Q(status__in=[WaitlistStatus.WAITING, WaitlistStatus.OFFERED]),
                name="waitlist_once_per_customer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer} waiting for {self.service} at {self.starts_at.isoformat()}"


SEAT_CONSTRAINT = "appointment_one_seat_per_customer"
SESSION_CONSTRAINT = "session_one_open_per_start"

# --- end of issue 13 models -------------------------------------------------------------------


class Appointment(PublicRecord):
    Status = AppointmentStatus

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="appointments")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="appointments")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(
        max_length=16, choices=AppointmentStatus.choices, default=AppointmentStatus.PENDING
    )
    price = models.DecimalField(max_digits=10, decimal_places=2)
    notes = models.TextField(blank=True, default="")
    created_by = tenant_user_link(blank=False)
    # Idempotency-Key of the request that created it, with a digest of that request's body.
    idempotency_key = models.CharField(max_length=128, blank=True, default="")
    request_digest = models.CharField(max_length=64, blank=True, default="")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # Issue 13: a seat of a group session (no allocations of its own), an occurrence of a series.
    session = models.ForeignKey(
        GroupSession, null=True, blank=True, on_delete=models.PROTECT, related_name="seats"
    )
    single_seat = models.BooleanField(default=False)  # the service's "one seat per customer"
    series = models.ForeignKey(
        AppointmentSeries, null=True, blank=True, on_delete=models.PROTECT,
        related_name="occurrences",
    )  # fmt: skip
    occurrence_start = models.DateTimeField(null=True, blank=True)  # the start the rule gave
    # Answers to the service's intake questions (validated against its ``intake_schema``).
    intake_answers = models.JSONField(default=dict, blank=True)
    # Signed manage links carry this; a reschedule or a cancellation through a link bumps it, so
    # every link issued before is dead (appointments.manage_links).
    manage_version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["starts_at"]), models.Index(fields=["status"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="appointment_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(price__gte=0), name="appointment_price_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in AppointmentStatus]),
                name="appointment_status_valid",
            ),
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="appointment_idempotency_key_unique",
            ),
            models.UniqueConstraint(
                fields=["session", "customer"],
                condition=Q(single_seat=True, session__isnull=False)
                & ~Q(status=AppointmentStatus.CANCELLED),
                name=SEAT_CONSTRAINT,
            ),
            models.UniqueConstraint(
                fields=["series", "occurrence_start"],
                condition=Q(series__isnull=False),
                name="appointment_one_per_occurrence",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service} for {self.customer} at {self.starts_at.isoformat()}"


class Blocker(PublicRecord):
    """Time off: the resource cannot be booked between ``starts_at`` and ``ends_at``."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="blockers")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    title = models.CharField(max_length=200, blank=True, default="")
    created_by = tenant_user_link(blank=False)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="blocker_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resource} blocked {self.starts_at.isoformat()} to {self.ends_at.isoformat()}"


class SlotHold(models.Model):
    """A slot held for a few minutes while a visitor fills in the booking form. Its allocations
    block the slot for everyone else until ``expires_at``; after that they are dead rows the
    exclusion constraint ignores, without any job having to remove them."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"{self.service} held at {self.starts_at.isoformat()}"


class Allocation(models.Model):
    """A resource held from ``starts_at`` to ``ends_at`` by an appointment, a blocker, a group
    session or a slot hold. A row blocks others while it is live: from ``live_from`` (when it
    was written) until ``expires_at`` (a hold's expiry; never for the others)."""

    # No index of its own: the (resource, starts_at) index serves every lookup by resource.
    resource = models.ForeignKey(
        Resource, on_delete=models.PROTECT, related_name="allocations", db_index=False
    )
    appointment = models.ForeignKey(
        Appointment, null=True, on_delete=models.CASCADE, related_name="allocations"
    )
    blocker = models.ForeignKey(
        Blocker, null=True, on_delete=models.CASCADE, related_name="allocations"
    )
    session = models.ForeignKey(
        GroupSession, null=True, on_delete=models.CASCADE, related_name="allocations"
    )
    hold = models.ForeignKey(
        SlotHold, null=True, on_delete=models.CASCADE, related_name="allocations"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    is_live = models.BooleanField(default=True)
    live_from = models.DateTimeField(db_default=Now())
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["resource", "starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="allocation_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(
                    appointment__isnull=False,
                    blocker__isnull=True,
                    session__isnull=True,
                    hold__isnull=True,
                )
                | Q(
                    appointment__isnull=True,
                    blocker__isnull=False,
                    session__isnull=True,
                    hold__isnull=True,
                )
                | Q(
                    appointment__isnull=True,
                    blocker__isnull=True,
                    session__isnull=False,
                    hold__isnull=True,
                )
                | Q(
                    appointment__isnull=True,
                    blocker__isnull=True,
                    session__isnull=True,
                    hold__isnull=False,
                ),
                name="allocation_one_holder",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__isnull=True) | Q(expires_at__gt=F("live_from")),
                name="allocation_expires_after_live_from",
            ),
            # "Same resource" as a range so the GiST index needs no btree_gist extension.
            ExclusionConstraint(
                name=ALLOCATION_EXCLUSION,
                expressions=[
                    (
                        Func(F("resource_id"), F("resource_id"), Value("[]"), function="int8range"),
                        RangeOperators.OVERLAPS,
                    ),
                    (
                        Func(F("starts_at"), F("ends_at"), Value("[)"), function="tstzrange"),
                        RangeOperators.OVERLAPS,
                    ),
                    # When the row blocks: a hold lapses at its expiry, by itself (an open upper
                    # bound for appointments and blockers).
                    (
                        Func(F("live_from"), F("expires_at"), Value("[)"), function="tstzrange"),
                        RangeOperators.OVERLAPS,
                    ),
                ],
                condition=Q(is_live=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resource} held {self.starts_at.isoformat()} to {self.ends_at.isoformat()}"


class MonthlyBookingCount(models.Model):
    """How many bookings this business made in a calendar month (UTC): the tier's
    ``bookings_per_month`` quota. Incremented by the booking's own transaction, by a conditional
    upsert that refuses to pass the limit (``appointments.services.quota``), so concurrent
    bookings can never squeeze past it and a booking that rolls back is not counted."""

    month = models.DateField(unique=True, help_text="The first day of the month.")
    bookings = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(month__day=1), name="bookingcount_month_first_day")
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}: {self.bookings} bookings"
