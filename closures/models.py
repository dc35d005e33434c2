"""Tenant-wide closures: the whole business closed for a while (a public holiday, a closed
week). No resource can be booked then, whatever its own hours say."""

from django.db import models
from django.db.models import F, Q

from core.models import PublicRecord
from users.fields import tenant_user_link


class Closure(PublicRecord):
    title = models.CharField(max_length=200)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    created_by = tenant_user_link(blank=False)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["starts_at", "ends_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="closure_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title}: {self.starts_at.isoformat()} to {self.ends_at.isoformat()}"
