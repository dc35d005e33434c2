"""What a business sells: services, how long they take and which resources they hold."""

from django.db import models
from django.db.models import Q

from core.models import PublicRecord
from resources.models import Resource, ResourceType


class Service(PublicRecord):
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, default="")
    duration_minutes = models.PositiveIntegerField()
    price = models.DecimalField(max_digits=10, decimal_places=2)
    buffer_before_minutes = models.PositiveIntegerField(default=0)
    buffer_after_minutes = models.PositiveIntegerField(default=0)
    min_notice_minutes = models.PositiveIntegerField(default=0)
    max_advance_days = models.PositiveIntegerField(
        default=90, help_text="Booking horizon: how many days ahead a start may be."
    )
    is_active = models.BooleanField(default=True)
    # Group sessions (issue 13): above 1, the resources are held once per session and customers
    # take seats; ``allow_multiple_seats`` lets one customer take several seats of one session.
    capacity = models.PositiveIntegerField(
        default=1, help_text="Seats per session; 1 is an ordinary one-to-one service."
    )
    allow_multiple_seats = models.BooleanField(default=False)
    # Intake questions as a JSON Schema (an object schema: typed properties, required ones,
    # enums for choices); a booking's answers are validated against it (catalog.intake).
    intake_schema = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gt=0, duration_minutes__lte=24 * 60),
                name="service_duration_range",
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="service_price_non_negative"),
            models.CheckConstraint(
                condition=Q(buffer_before_minutes__lte=24 * 60, buffer_after_minutes__lte=24 * 60),
                name="service_buffers_range",
            ),
            models.CheckConstraint(
                condition=Q(max_advance_days__gte=1, max_advance_days__lte=730),
                name="service_horizon_range",
            ),
            models.CheckConstraint(
                condition=Q(capacity__gte=1, capacity__lte=1000), name="service_capacity_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_group(self) -> bool:
        return self.capacity > 1


class ServiceRequirement(models.Model):
    """One resource a booking of the service holds, chosen from ``eligible_resources``.

    A service needing a stylist and a chair has two requirements.
    """

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="requirements")
    position = models.PositiveSmallIntegerField(default=0)
    resource_type = models.CharField(max_length=16, choices=ResourceType.choices)
    eligible_resources = models.ManyToManyField(Resource, related_name="requirements")

    class Meta:
        ordering = ["service_id", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(resource_type__in=[t.value for t in ResourceType]),
                name="requirement_type_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service} needs a {self.resource_type}"


class ServiceResourceOverride(models.Model):
    """What the service costs and how long it takes with one resource (a senior stylist costs
    more and takes longer). Either may be left to the service's (null)."""

    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="resource_overrides"
    )
    resource = models.ForeignKey(
        Resource, on_delete=models.CASCADE, related_name="service_overrides"
    )
    price = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    duration_minutes = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["service_id", "resource_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "resource"], name="override_one_per_resource"
            ),
            models.CheckConstraint(
                condition=Q(price__isnull=False) | Q(duration_minutes__isnull=False),
                name="override_changes_something",
            ),
            models.CheckConstraint(
                condition=Q(price__isnull=True) | Q(price__gte=0),
                name="override_price_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(duration_minutes__isnull=True)
                | Q(duration_minutes__gt=0, duration_minutes__lte=24 * 60),
                name="override_duration_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service} with {self.resource}"
