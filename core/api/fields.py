"""Serializer fields every app's API shares."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import serializers


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO-8601 datetime that must carry its UTC offset; a naive one is a 400, never silently
    read in the server's timezone."""

    default_error_messages = {
        "naive": "Give a timezone offset, e.g. 2026-05-04T09:00:00+02:00 or ...Z.",
    }

    def to_internal_value(self, value: Any) -> datetime:
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip()) if value.strip() else None
            except ValueError:  # well formed, but no such time (e.g. 12:99)
                self.fail("invalid", format="YYYY-MM-DDThh:mm[:ss[.uuuuuu]]+HH:MM")
            if parsed is not None and timezone.is_naive(parsed):
                self.fail("naive")
        # DRF converts to the server's zone (UTC) here, so an offset PostgreSQL cannot store
        # (beyond +-15:59) never reaches the database.
        return super().to_internal_value(value)


class PublicIdField(serializers.SlugRelatedField):
    """A related object named by its public UUID. Unknown or malformed ids are field errors."""

    default_error_messages = {
        "does_not_exist": "No such object: {value}.",
        "invalid": "Give the object's id (a UUID).",
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(slug_field="public_id", **kwargs)

    def to_internal_value(self, data: Any) -> Any:
        try:
            uuid.UUID(str(data))
        except (TypeError, ValueError, AttributeError):
            self.fail("invalid")
        return super().to_internal_value(data)
