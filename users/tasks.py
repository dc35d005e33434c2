"""Periodic jobs of the users app (scheduled in settings.CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from celery import shared_task
from django.core.management import call_command


@shared_task(name="users.tasks.flush_expired_tokens", ignore_result=True)
def flush_expired_tokens() -> None:
    """Delete refresh-token records (and their blacklist rows) whose tokens have expired."""
    call_command("flushexpiredtokens")
