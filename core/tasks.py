"""Periodic jobs of the platform (scheduled in settings.CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from celery import shared_task

from core.domains import custom_domains_verify_all


@shared_task(name="core.tasks.verify_custom_domains", ignore_result=True)
def verify_custom_domains() -> dict[str, int]:
    """Re-check every custom domain's Route53 record; records VERIFIED/FAILED with the reason."""
    return custom_domains_verify_all()
