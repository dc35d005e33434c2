"""The sign-in guard, in front of every door a password goes through (token, session, the admin's
login form, the password change): how often one address may try, and how an account backs off
after failures whatever the address.

Both counters live in the default cache, with atomic ``add``/``incr``; an attempt is counted
before its password is checked, so a parallel burst cannot slip past the threshold. In
production the cache is Redis, or each process's memory while Redis is unreachable
(``core.cache``).

Why not django-axes (which has a cache handler and a pluggable client address): it records a
failure after ``authenticate()`` has failed, so parallel guesses all pass its check; its cool-off
does not grow by itself; it sees only ``authenticate()``, not our host check or the password
change; and it refuses with a 403 or its own page, not our JSON 429 with ``Retry-After``. The
glue would outweigh these hundred lines over the same cache and ``core.audit.client_ip``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from core.audit import client_ip, security_event

# How long an account's run of failures is remembered after the last one.
FAILURE_MEMORY_SECONDS = 24 * 60 * 60
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class SignInThrottled(exceptions.Throttled):
    """429 with ``Retry-After`` (DRF adds "Expected available in N seconds" to the message). It
    says the same whatever the password was."""


def _rate() -> tuple[int, int]:
    """``LOGIN_THROTTLE_RATE`` ("20/min") as (attempts, seconds)."""
    count, period = settings.LOGIN_THROTTLE_RATE.split("/")
    return int(count), _PERIODS[period.strip()[0]]


def _address_bucket(request: Any) -> str:
    """Whom the address limit counts: the client's address, or its /64 for IPv6, where one
    subscriber holds a whole /64."""
    address = client_ip(request) or "unknown"
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def _count(key: str, timeout: int) -> int:
    """Add one to a counter, atomically (two parallel requests never read the same value)."""
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # gone in between: expired, or the cache fell back to this process's memory
        cache.set(key, 1, timeout=timeout)
        return 1


def address_attempt(request: Any) -> None:
    """Count one attempt from this request's address (fixed windows of the rate's period);
    raise ``SignInThrottled`` beyond the rate. The first refusal of a window is audited."""
    limit, period = _rate()
    now = time.time()
    window = int(now // period)
    bucket = _address_bucket(request)
    attempts = _count(f"signin:address:{bucket}:{window}", timeout=2 * period)
    if attempts <= limit:
        return
    if attempts == limit + 1:
        security_event("login_throttled", request=request, actor=None, address=bucket)
    raise SignInThrottled(
        wait=math.ceil((window + 1) * period - now),
        detail="Too many sign-in attempts from your address.",
    )


class SignInAddressThrottle(BaseThrottle):
    """The address limit for auth endpoints that take no password (refresh, sign-out): the same
    budget as sign-ins, so they cannot be used to spend someone else's."""

    def allow_request(self, request: Request, view: APIView) -> bool:
        # Raises rather than answering False, so the 429 is the very one sign-ins get.
        address_attempt(request)
        return True


@dataclass(frozen=True)
class Attempt:
    """One sign-in attempt on an account, counted as a failure until it succeeds."""

    email: str
    key: str
    failures: int
    # Set when this attempt took the account's one slot after the threshold: failing locks the
    # account this long (the lock is already in place while the password is checked).
    lock_seconds: int

    @property
    def lock_key(self) -> str:
        return f"{self.key}:lock"


def _locked(seconds_left: float) -> SignInThrottled:
    return SignInThrottled(
        wait=max(1, math.ceil(seconds_left)),
        detail="Too many failed sign-ins for this account.",
        code="sign_in_locked",
    )


def _lock_seconds(failures: int) -> int:
    """How long an account stays locked after its ``failures``-th failure in a row: nothing
    below the threshold, then the base period doubling with each failure, up to the maximum."""
    beyond = failures - settings.LOGIN_LOCKOUT_THRESHOLD
    if beyond < 0:
        return 0
    growth = 2 ** min(beyond, 32)
    return min(settings.LOGIN_LOCKOUT_SECONDS * growth, settings.LOGIN_LOCKOUT_MAX_SECONDS)


def signin_attempt_begin(*, request: Any, email: str) -> Attempt:
    """Admit one attempt to sign in as ``email`` (an account or not: the answer must not tell), or
    raise ``SignInThrottled`` before any password is looked at. The attempt is counted as a
    failure up front, so that parallel attempts cannot all pass the threshold; success forgets
    the whole run."""
    address_attempt(request)
    email = email.strip().lower()
    key = "signin:account:" + hashlib.sha256(email.encode()).hexdigest()
    now = time.time()
    locked_until = cache.get(f"{key}:lock")
    if locked_until is not None and locked_until > now:
        raise _locked(locked_until - now)
    failures = _count(f"{key}:failures", timeout=FAILURE_MEMORY_SECONDS)
    attempt = Attempt(email=email, key=key, failures=failures, lock_seconds=_lock_seconds(failures))
    if attempt.lock_seconds and not cache.add(
        attempt.lock_key, now + attempt.lock_seconds, timeout=attempt.lock_seconds
    ):
        raise _locked((cache.get(attempt.lock_key) or now + 1) - now)
    return attempt


def signin_attempt_failed(*, request: Any, attempt: Attempt) -> None:
    """The password (or the host) was wrong. If that locks the account, say so in the audit."""
    if attempt.lock_seconds:
        security_event(
            "login_locked_out",
            request=request,
            actor=None,
            email=attempt.email,
            failures=attempt.failures,
            locked_seconds=attempt.lock_seconds,
        )


def signin_attempt_succeeded(*, attempt: Attempt) -> None:
    cache.delete_many([f"{attempt.key}:failures", attempt.lock_key])
