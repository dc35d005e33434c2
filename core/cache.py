"""The production cache: Redis, or this process's memory while Redis cannot be reached.

Everything that uses the cache (sign-in throttles and lockouts, routes, anything DRF throttles)
keeps working through a Redis outage, with per-process state instead of shared state: a local
fallback limit rather than a 500 on every request. The first failure is logged once as an error,
Redis is left alone for ``FALLBACK_RETRY_SECONDS`` (so a dead server costs one connect timeout
per process per period, not one per call), and its return is logged once too.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

T = TypeVar("T")
UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
DEFAULT_RETRY_SECONDS = 5.0


class _Outages:
    """When each Redis location may be tried again, shared by every thread of the process
    (Django builds one cache object per thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._retry_at: dict[str, float] = {}

    def skipping(self, location: str) -> bool:
        with self._lock:
            return self._retry_at.get(location, 0.0) > time.monotonic()

    def failed(self, location: str, retry_seconds: float, error: Exception) -> None:
        with self._lock:
            first = location not in self._retry_at
            self._retry_at[location] = time.monotonic() + retry_seconds
        if first:
            logger.error(
                "Cache at %s is unreachable (%s): using each process's memory until it answers.",
                location,
                error,
            )

    def answered(self, location: str) -> None:
        with self._lock:
            if self._retry_at.pop(location, None) is None:
                return
        logger.warning("Cache at %s answers again: back to the shared cache.", location)


outages = _Outages()


def local_incr_window(cache: Any, key: str, timeout: int) -> int:
    """``incr_window`` on a cache without it (process memory): add the key or increment it."""
    if cache.add(key, 1, timeout):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between the two calls
        cache.add(key, 1, timeout)
        return 1


# What makes a key and its lifetime: the fallback follows the same settings as Redis.
_KEYING = ("TIMEOUT", "KEY_PREFIX", "VERSION", "KEY_FUNCTION")


def _without_password(location: str) -> str:
    """The location as it may be logged: ``redis://:secret@host/0`` loses its password."""
    parts = urlsplit(location)
    if parts.password is None:
        return location
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=netloc))


def _resilient(name: str) -> Callable[..., Any]:
    """The cache method ``name``: Redis's, or the fallback's while Redis does not answer."""

    def method(self: ResilientRedisCache, *args: Any, **kwargs: Any) -> Any:
        return self._either(
            lambda: getattr(RedisCache, name)(self, *args, **kwargs),
            lambda: getattr(self._fallback, name)(*args, **kwargs),
        )

    method.__name__ = name
    return method


class ResilientRedisCache(RedisCache):
    """``RedisCache`` whose calls fall back to a per-process ``LocMemCache`` when Redis does not
    answer. Set ``socket_connect_timeout`` and ``socket_timeout`` in ``OPTIONS`` so that "does not
    answer" is decided in milliseconds; ``FALLBACK_RETRY_SECONDS`` (beside ``OPTIONS``) is how long
    a process keeps away from a Redis that failed."""

    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._location = _without_password(server if isinstance(server, str) else ",".join(server))
        self._retry_seconds = float(params.get("FALLBACK_RETRY_SECONDS", DEFAULT_RETRY_SECONDS))
        shared_keys = {k: params[k] for k in _KEYING if k in params}
        # LocMemCache keeps its data per name in the process, so every thread shares it.
        self._fallback = LocMemCache(
            f"fallback:{self._location}",
            {**shared_keys, "OPTIONS": {"MAX_ENTRIES": 10_000}},
        )

    def _either(self, shared: Callable[[], T], local: Callable[[], T]) -> T:
        if outages.skipping(self._location):
            return local()
        try:
            result = shared()
        except UNREACHABLE as error:
            outages.failed(self._location, self._retry_seconds, error)
            return local()
        outages.answered(self._location)
        return result

    add = _resilient("add")
    get = _resilient("get")
    set = _resilient("set")
    touch = _resilient("touch")
    delete = _resilient("delete")
    get_many = _resilient("get_many")
    has_key = _resilient("has_key")
    incr = _resilient("incr")
    set_many = _resilient("set_many")
    delete_many = _resilient("delete_many")

    def incr_window(self, key: str, timeout: int) -> int:
        """Count one more in ``key`` and return the count: INCR and EXPIRE in one round trip to
        Redis (the count of a rate-limit window; ``tenancy.ratelimit``), or in this process's
        memory while Redis does not answer."""

        def shared() -> int:
            redis_key = self.make_and_validate_key(key)
            client = self._cache.get_client(redis_key, write=True)
            pipe = client.pipeline(transaction=False)
            pipe.incr(redis_key)
            pipe.expire(redis_key, timeout)
            count, _ = pipe.execute()
            return int(count)

        return self._either(shared, lambda: local_incr_window(self._fallback, key, timeout))

    def clear(self) -> None:
        self._fallback.clear()
        self._either(lambda: RedisCache.clear(self), lambda: None)
