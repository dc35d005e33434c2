"""The shared cache of deployed processes: Redis, degrading to per-process memory while it is
unreachable (core/cache.py). Timeouts are short because a cache that has not answered in a
quarter of a second is better treated as absent than waited for on every request."""

from __future__ import annotations

from typing import Any

import environ


def redis_cache(env: environ.Env, location: str) -> dict[str, Any]:
    """``CACHES["default"]`` for the Redis at ``location``, with this deployment's timeouts."""
    timeout = env.float("CACHE_REDIS_TIMEOUT_SECONDS", default=0.25)
    return {
        "BACKEND": "core.cache.ResilientRedisCache",
        "LOCATION": location,
        "FALLBACK_RETRY_SECONDS": env.float("CACHE_REDIS_RETRY_SECONDS", default=5.0),
        "OPTIONS": {"socket_connect_timeout": timeout, "socket_timeout": timeout},
    }
