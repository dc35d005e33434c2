"""Reads of resources' schedule data."""

from __future__ import annotations

from django.db.models import QuerySet

from resources.models import DateOverride


def date_override_list() -> QuerySet[DateOverride]:
    return DateOverride.objects.select_related("resource")
