"""Filter fields every app's API shares."""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django_filters import IsoDateTimeFilter
from django_filters.fields import IsoDateTimeField


class UTCIsoDateTimeField(IsoDateTimeField):
    """An ISO-8601 query value, turned into UTC. Python accepts UTC offsets up to +-23:59,
    PostgreSQL only up to +-15:59; in UTC every valid instant can be stored and compared."""

    def to_python(self, value: object) -> datetime | None:
        try:
            parsed = super().to_python(value)
            return parsed.astimezone(UTC) if parsed is not None else None
        except OverflowError as error:  # e.g. year 1 with a positive offset
            raise ValidationError("Datetime out of range.", code="overflow") from error


class UTCIsoDateTimeFilter(IsoDateTimeFilter):
    field_class = UTCIsoDateTimeField
