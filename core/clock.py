"""The one clock for security expiry (grants, masquerade sessions), so tests can move time."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
