"""The tier's monthly booking quota (``TIER_QUOTAS["<tier>"]["bookings_per_month"]``), settled
by the database inside the booking's transaction."""

from __future__ import annotations

from datetime import UTC, date, datetime

from django.db import connection

from core.exceptions import QuotaExceeded
from tenancy.models import Tenant
from tenancy.tiers import tier_quota

# One statement: count the booking unless the month's count already reached the limit. Rows are
# locked by the upsert until the booking commits, so concurrent bookings queue here, each seeing
# the count the one before it left.
_COUNT_SQL = """
INSERT INTO appointments_monthlybookingcount (month, bookings) VALUES (%s, 1)
ON CONFLICT (month) DO UPDATE SET bookings = appointments_monthlybookingcount.bookings + 1
WHERE appointments_monthlybookingcount.bookings < %s
RETURNING bookings
"""


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def booking_quota_take(*, tenant: Tenant, now: datetime) -> None:
    """Count one booking in ``now``'s month, or raise ``QuotaExceeded`` (429, ``Retry-After``
    until the next month) when the tier's quota is used up. Call it inside the booking's
    transaction; tiers without a quota count nothing."""
    limit = tier_quota(tenant=tenant, kind="bookings_per_month")
    if limit is None:
        return
    moment = now.astimezone(UTC)
    month = moment.date().replace(day=1)
    with connection.cursor() as cursor:
        cursor.execute(_COUNT_SQL, [month, limit])
        counted = cursor.fetchone()
    if counted is None:
        renews = datetime.combine(_next_month(month), datetime.min.time(), tzinfo=UTC)
        raise QuotaExceeded(
            f"The {tenant.subscription_tier} plan allows {limit} bookings a month; this month's "
            "are used up (upgrade the subscription for more).",
            retry_after=int((renews - moment).total_seconds()) + 1,
        )
