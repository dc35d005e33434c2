"""Background jobs of custom domains: the periodic re-verification (settings.CELERY_BEAT_SCHEDULE),
a verification a request could not finish in time, and the clean-up of a record a timed-out add
may have left."""

from __future__ import annotations

from celery import shared_task
from django.db import connection

from core import route53
from core.aws import AwsUnavailable
from core.domains import (
    custom_domain_record_discard,
    custom_domain_verify_in_background,
    custom_domains_verify_all,
)
from core.masquerade.audit import masquerade_log_replay
from core.selectors import tenants_due_for_deletion
from core.services import tenant_deletion_execute


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


@shared_task(name="core.tasks.replay_masquerade_log", ignore_result=True)
def replay_masquerade_log() -> int:
    """Write the masquerade.log lines that waited for an unwritable file; raises while it still
    is (the next run tries again)."""
    return masquerade_log_replay()


@shared_task(name="core.tasks.purge_deleted_tenants", ignore_result=True)
def purge_deleted_tenants() -> int:
    """Delete every tenant whose deletion grace period is over, each in its own transaction (a
    failing one leaves the others done and is tried again on the next run)."""
    connection.set_schema_to_public()
    return sum(tenant_deletion_execute(tenant_id=pk) for pk in tenants_due_for_deletion())
