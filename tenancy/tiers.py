"""Subscription tier limits: one table in settings (``TIER_LIMITS``), one check here."""

from __future__ import annotations

from typing import cast

from django.conf import settings

from core.exceptions import TierLimitExceeded
from tenancy.models import Tenant

# A limit per tier and kind; None: unlimited.
TierTable = dict[str, dict[str, int | None]]


def tier_limit(*, tenant: Tenant, kind: str) -> int | None:
    limits = cast(TierTable, settings.TIER_LIMITS)  # settings infer its type from the values
    return limits[tenant.subscription_tier][kind]


def tier_limit_check(*, tenant: Tenant, kind: str, current: int, adding: int = 1) -> None:
    """Raise ``TierLimitExceeded`` when ``current + adding`` would pass the tenant's tier limit.

    Callers count ``current`` while holding a lock on the tenant row (``select_for_update``), so
    two concurrent creations cannot both squeeze under the limit.
    """
    limit = tier_limit(tenant=tenant, kind=kind)
    if limit is not None and current + adding > limit:
        raise TierLimitExceeded(
            f"The {tenant.subscription_tier} plan allows at most {limit} {kind.replace('_', ' ')}; "
            "upgrade the subscription to add more."
        )


def tier_rate_limit(*, tenant: Tenant, kind: str) -> int | None:
    """Requests per ``RATE_LIMIT_WINDOW_SECONDS`` a tenant's tier allows (``TIER_RATE_LIMITS``):
    ``tenant_requests`` (all of its hosts' requests) or ``api_key_requests`` (each key's)."""
    return settings.TIER_RATE_LIMITS[tenant.subscription_tier][kind]


def tier_quota(*, tenant: Tenant, kind: str) -> int | None:
    """A tenant's tier quota (``TIER_QUOTAS``): ``bookings_per_month``, ``api_calls_per_day``."""
    quotas = cast(TierTable, settings.TIER_QUOTAS)  # settings infer its type from the values
    return quotas[tenant.subscription_tier][kind]
