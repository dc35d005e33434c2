"""Things that can be booked: people, rooms and equipment, and when each is open."""

from django.db import models
from django.db.models import Q

from core.models import PublicRecord
from core.validators import validate_timezone
from users.fields import tenant_user_link


class ResourceType(models.TextChoices):
    STAFF = "STAFF"
    ROOM = "ROOM"
    EQUIPMENT = "EQUIPMENT"


class Resource(PublicRecord):
    Type = ResourceType

    name = models.CharField(max_length=120)
    type = models.CharField(max_length=16, choices=ResourceType.choices)
    # Looked up by user only through the partial unique index resource_one_per_user.
    user = tenant_user_link(
        help_text="The staff user this resource is (STAFF resources only).", db_index=False
    )
    timezone = models.CharField(max_length=64, validators=[validate_timezone])
    is_active = models.BooleanField(default=True)
    # Stored by the default (tenant-aware) storage under the tenant's own prefix.
    photo = models.FileField(upload_to="resources/", blank=True, default="", max_length=255)
    # Secret of the resource's iCalendar feed URL; NULL when the feed is off (NULLs never clash
    # under resource_ical_token_unique, empty strings would).
    ical_token = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(type__in=[t.value for t in ResourceType]), name="resource_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=True) | Q(type=ResourceType.STAFF),
                name="resource_user_only_for_staff",
            ),
            models.UniqueConstraint(
                fields=["user"], condition=Q(user__isnull=False), name="resource_one_per_user"
            ),
            # A constraint rather than unique=True: no second (LIKE) index, tokens are matched
            # whole.
            models.UniqueConstraint(fields=["ical_token"], name="resource_ical_token_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.type})"


class WorkingHours(models.Model):
    """One opening interval on one weekday (Monday = 0), in the resource's timezone."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField()
    start_time = models.TimeField()
    end_time = models.TimeField()

    class Meta:
        ordering = ["resource_id", "weekday", "start_time"]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="working_hours_weekday"),
            models.CheckConstraint(
                condition=Q(start_time__lt=models.F("end_time")), name="working_hours_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resource} weekday {self.weekday} {self.start_time} to {self.end_time}"


class DateOverride(PublicRecord):
    """Replaces the weekly hours on one date: closed all day, or open only in these hours.

    Several open rows on one date add up; one closed row closes the day.
    """

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="overrides")
    date = models.DateField()
    is_closed = models.BooleanField(default=False)
    start_time = models.TimeField(null=True, blank=True)
    end_time = models.TimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["resource_id", "date", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(is_closed=True, start_time__isnull=True, end_time__isnull=True)
                    | Q(is_closed=False, start_time__lt=models.F("end_time"))
                ),
                name="date_override_closed_or_hours",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resource} on {self.date}"
