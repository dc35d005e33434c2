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

from catalog.models import Service
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


class Appointment(models.Model):
    Status = AppointmentStatus

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
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
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

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
        ]

    def __str__(self) -> str:
        return f"{self.service} for {self.customer} at {self.starts_at.isoformat()}"


class Blocker(models.Model):
    """Time off: the resource cannot be booked between ``starts_at`` and ``ends_at``."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="blockers")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    title = models.CharField(max_length=200, blank=True, default="")
    created_by = tenant_user_link(blank=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="blocker_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resource} blocked {self.starts_at.isoformat()} to {self.ends_at.isoformat()}"


class Allocation(models.Model):
    """A resource held from ``starts_at`` to ``ends_at`` by an appointment or a blocker."""

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
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    is_live = models.BooleanField(default=True)

    class Meta:
        indexes = [models.Index(fields=["resource", "starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="allocation_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(appointment__isnull=False, blocker__isnull=True)
                | Q(appointment__isnull=True, blocker__isnull=False),
                name="allocation_one_holder",
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
                ],
                condition=Q(is_live=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resource} held {self.starts_at.isoformat()} to {self.ends_at.isoformat()}"
