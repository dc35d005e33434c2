"""Background jobs of the schedule (issue 13): waitlist offers whose time is up pass on."""

from __future__ import annotations

from celery import shared_task
from django_tenants.utils import get_public_schema_name, tenant_context

from appointments.models import WaitlistEntry, WaitlistStatus
from appointments.services.waitlist import waitlist_offers_expire
from tenancy.models import Tenant


@shared_task(name="appointments.tasks.expire_waitlist_offers", ignore_result=True)
def expire_waitlist_offers() -> dict[str, int]:
    """In every business, expire the waitlist offers whose time is up: their kept seats go to
    the next customer waiting, or back to the session (celery beat,
    ``WAITLIST_EXPIRY_SWEEP_SECONDS``). One cheap query per schema when nothing is due."""
    expired: dict[str, int] = {}
    for tenant in Tenant.objects.exclude(schema_name=get_public_schema_name()).order_by("pk"):
        with tenant_context(tenant):
            if not WaitlistEntry.objects.filter(status=WaitlistStatus.OFFERED).exists():
                continue
            count = waitlist_offers_expire(tenant=tenant)
        if count:
            expired[tenant.schema_name] = count
    return expired
