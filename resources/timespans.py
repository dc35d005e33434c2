"""Checks every span of time the apps write shares (holds, blockers, closures): aware
datetimes, an end after the start."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from core.exceptions import DomainError


def require_aware(**moments: datetime) -> None:
    for name, moment in moments.items():
        if timezone.is_naive(moment):
            raise DomainError(
                "Datetimes must carry a UTC offset.",
                fields={name: ["Give a timezone offset, e.g. 2026-05-04T09:00:00+02:00."]},
            )


def require_order(starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise DomainError(
            "The end must be after the start.", fields={"ends_at": ["Must be after starts_at."]}
        )
