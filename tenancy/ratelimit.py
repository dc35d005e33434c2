"""Request rates and daily call quotas, counted in the shared cache (Redis) so that every worker
sees the same counts.

Each limit is a fixed window: the counter ``rl:<bucket>:<window start>`` lives one window and is
incremented by every request (INCR and EXPIRE in one round trip, ``core.cache``). A request past
the limit is answered ``429 throttled`` with ``Retry-After`` (seconds to the window's end); every
counted response carries ``RateLimit-Limit``, ``RateLimit-Remaining``, ``RateLimit-Reset`` and
``RateLimit-Policy`` (IETF draft "RateLimit header fields for HTTP") for the tightest limit it
met. A fixed window lets a client send up to twice its limit across a window's edge; it costs
one round trip and one key per bucket, which is why it was chosen over a sliding log.

Limits come from the tenant's tier (``TIER_RATE_LIMITS``, ``TIER_QUOTAS``; ``tenancy.tiers``):

* ``TenantRateLimitMiddleware``: every request to a tenant's hosts (not the platform host, not
  the health probes, not CORS preflights, which end before it);
* each API key's requests, and the tenant's API-key calls per UTC day (``apikeys``).

When Redis does not answer, ``ResilientRedisCache`` counts in each process's memory (limits then
hold per process); any other cache failure lets the request through: a broken limiter must not
take the API down with it.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

from core.api.errors import json_error
from core.cache import local_incr_window
from core.exceptions import QuotaExceeded, TooManyRequests
from tenancy.models import Tenant
from tenancy.selectors import is_platform
from tenancy.tiers import tier_quota, tier_rate_limit

logger = logging.getLogger(__name__)

STATE_ATTR = "rate_limits"  # on the Django request: the windows this request was counted in


@dataclass(frozen=True)
class Window:
    """One counter after this request: its limit, what is left, seconds until it resets."""

    limit: int
    count: int
    reset: int
    period: int

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)


def _count(key: str, timeout: int) -> int:
    counter = getattr(cache, "incr_window", None)
    if counter is not None:
        return counter(key, timeout)
    return local_incr_window(cache, key, timeout)


def window_hit(*, bucket: str, limit: int, period: int, now: float | None = None) -> Window | None:
    """Count one request in ``bucket``'s current window of ``period`` seconds. None when the
    cache failed in a way its fallback does not cover: the request is not limited then."""
    now = time.time() if now is None else now
    start = int(now // period) * period
    try:
        count = _count(f"rl:{bucket}:{start}", period + 1)
    except Exception:
        logger.exception("rate limit counter %s unavailable; request not limited", bucket)
        return None
    return Window(limit=limit, count=count, reset=max(1, math.ceil(start + period - now)),
                  period=period)  # fmt: skip


def quota_hit(*, bucket: str, limit: int, now: datetime | None = None) -> Window | None:
    """Count one call in ``bucket``'s quota for the current UTC day."""
    now = now or datetime.now(UTC)
    day = now.date()
    midnight = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    try:
        count = _count(f"quota:{bucket}:{day.isoformat()}", 2 * 24 * 60 * 60)
    except Exception:
        logger.exception("quota counter %s unavailable; call not counted", bucket)
        return None
    seconds = max(1, math.ceil((midnight - now).total_seconds()))
    return Window(limit=limit, count=count, reset=seconds, period=24 * 60 * 60)


def remember(request: Any, window: Window | None) -> None:
    """Keep ``window`` on the request, for the response's RateLimit headers."""
    if window is None:
        return
    django_request = getattr(request, "_request", request)
    windows = getattr(django_request, STATE_ATTR, None)
    if windows is None:
        windows = []
        setattr(django_request, STATE_ATTR, windows)
    windows.append(window)


def tightest(request: HttpRequest) -> Window | None:
    windows = getattr(request, STATE_ATTR, None) or []
    return min(windows, key=lambda w: (w.remaining, -w.reset), default=None)


def add_headers(response: HttpResponse, window: Window) -> None:
    response["RateLimit-Limit"] = str(window.limit)
    response["RateLimit-Remaining"] = str(window.remaining)
    response["RateLimit-Reset"] = str(window.reset)
    response["RateLimit-Policy"] = f"{window.limit};w={window.period}"


def throttled(window: Window, what: str) -> TooManyRequests:
    return TooManyRequests(
        f"Too many requests {what}: {window.limit} per {window.period} s. "
        f"Retry in {window.reset} s.",
        retry_after=window.reset,
    )


def quota_exceeded(window: Window, what: str) -> QuotaExceeded:
    return QuotaExceeded(
        f"The subscription's quota of {window.limit} {what} is used up; it renews in "
        f"{window.reset} s (upgrade the subscription for more).",
        retry_after=window.reset,
    )


def tenant_request_window(tenant: Tenant) -> Window | None:
    limit = tier_rate_limit(tenant=tenant, kind="tenant_requests")
    if limit is None:
        return None
    period = settings.RATE_LIMIT_WINDOW_SECONDS
    return window_hit(bucket=f"tenant:{tenant.schema_name}", limit=limit, period=period)


def api_key_request_window(tenant: Tenant, key_prefix: str) -> Window | None:
    limit = tier_rate_limit(tenant=tenant, kind="api_key_requests")
    if limit is None:
        return None
    period = settings.RATE_LIMIT_WINDOW_SECONDS
    return window_hit(bucket=f"key:{key_prefix}", limit=limit, period=period)


def api_call_quota_window(tenant: Tenant) -> Window | None:
    limit = tier_quota(tenant=tenant, kind="api_calls_per_day")
    if limit is None:
        return None
    return quota_hit(bucket=f"api_calls:{tenant.schema_name}", limit=limit)


class TenantRateLimitMiddleware:
    """Counts every request to a tenant's hosts against the tier's ``tenant_requests`` per
    window; answers 429 ``throttled`` past it, before any view or authentication runs, and puts
    the RateLimit headers (of the tightest limit the request met, API keys' included) on every
    counted response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tenant = getattr(request, "tenant", None)
        if tenant is None or is_platform(tenant) or request.method == "OPTIONS":
            return self.get_response(request)
        window = tenant_request_window(tenant)
        remember(request, window)
        if window is not None and window.exceeded:
            error = throttled(window, "to this business")
            response: HttpResponse = json_error(429, error.code, error.message)
            response["Retry-After"] = str(error.retry_after)
        else:
            response = self.get_response(request)
        if (shown := tightest(request)) is not None:
            add_headers(response, shown)
        return response
