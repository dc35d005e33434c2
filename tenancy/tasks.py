"""Background jobs of custom domains: the periodic re-verification (settings.CELERY_BEAT_SCHEDULE),
a verification a request could not finish in time, and the clean-up of a record a timed-out add
may have left."""

from __future__ import annotations

from celery import shared_task

from core.aws import AwsUnavailable
from tenancy import route53
from tenancy.domains import (
    custom_domain_record_discard,
    custom_domain_verify_in_background,
    custom_domains_verify_all,
)


@shared_task(name="core.tasks.verify_custom_domains", ignore_result=True)
def verify_custom_domains() -> dict[str, int]:
    """Re-check every custom domain in DNS; records VERIFIED/FAILED with the reason."""
    return custom_domains_verify_all()


@shared_task(name="core.tasks.verify_custom_domain", ignore_result=True)
def verify_custom_domain(domain_id: int) -> str | None:
    """Check one domain that a request could not check within its own short budget."""
    return custom_domain_verify_in_background(domain_id=domain_id)


@shared_task(
    name="core.tasks.discard_custom_domain_record",
    ignore_result=True,
    autoretry_for=(AwsUnavailable,),
    retry_backoff=30,
    retry_backoff_max=3600,
    max_retries=24,
)
def discard_custom_domain_record(zone_id: str, name: str, target: str, ttl: int) -> bool:
    """Delete the CNAME an add created without its row, once AWS answers again."""
    return custom_domain_record_discard(
        zone_id=zone_id, record=route53.CnameRecord(name=name, target=target, ttl=ttl)
    )
