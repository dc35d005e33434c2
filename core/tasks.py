"""Periodic jobs of the platform (scheduled in settings.CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from celery import shared_task

from core.domains import custom_domains_verify_all
from core.masquerade.audit import masquerade_log_replay


@shared_task(name="core.tasks.verify_custom_domains", ignore_result=True)
def verify_custom_domains() -> dict[str, int]:
    """Re-check every custom domain's Route53 record; records VERIFIED/FAILED with the reason."""
    return custom_domains_verify_all()


@shared_task(name="core.tasks.replay_masquerade_log", ignore_result=True)
def replay_masquerade_log() -> int:
    """Write the masquerade.log lines that waited for an unwritable file; raises while it still
    is (the next run tries again)."""
    return masquerade_log_replay()
