"""Liveness and readiness probes for load balancers and orchestrators.

Both answer on every host, before tenant routing (a probe's Host header is often a bare IP
address), without credentials, throttles or sessions:

- ``GET /health/``: the process answers. Touches no dependency, so a database outage never gets
  healthy workers restarted.
- ``GET /ready/``: the database, the cache and the Celery broker each answer within
  ``READINESS_TIMEOUT_SECONDS`` (checked in parallel, on connections of their own); otherwise 503
  naming what is down, so the balancer stops sending traffic here. The unauthenticated answer
  says only ``unavailable`` or ``timeout``; the reason goes to the log.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait

from celery import current_app as app
from django.conf import settings
from django.core.cache import caches
from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse

from core.api.errors import error_body

logger = logging.getLogger(__name__)


def _database() -> None:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        connections.close_all()  # this probe thread's own connection


def _cache() -> None:
    cache = caches["default"]
    key = f"readiness:{uuid.uuid4().hex}"
    cache.set(key, "ok", timeout=10)
    if cache.get(key) != "ok":
        raise RuntimeError("the cache did not return what was just stored")
    cache.delete(key)


def _broker() -> None:
    timeout = settings.READINESS_TIMEOUT_SECONDS
    options = {"socket_connect_timeout": timeout, "socket_timeout": timeout}
    with app.connection_for_write(
        settings.CELERY_BROKER_URL, connect_timeout=timeout, transport_options=options
    ) as connection:
        connection.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)


CHECKS: dict[str, Callable[[], None]] = {
    "database": _database,
    "cache": _cache,
    "broker": _broker,
}


def readiness() -> dict[str, str]:
    """Each dependency's state: ``ok``, ``unavailable`` or ``timeout``, within the timeout."""
    pool = ThreadPoolExecutor(max_workers=len(CHECKS), thread_name_prefix="readiness")
    futures = {name: pool.submit(check) for name, check in CHECKS.items()}
    # A hung dependency must not hang the probe: answer at the deadline, leave its thread behind.
    wait(futures.values(), timeout=settings.READINESS_TIMEOUT_SECONDS + 0.5)
    pool.shutdown(wait=False)
    states = {}
    for name, future in futures.items():
        if not future.done():
            states[name] = "timeout"
            logger.warning("readiness: %s did not answer in time", name)
        elif (error := future.exception()) is not None:
            states[name] = "unavailable"
            logger.warning("readiness: %s unavailable: %s: %s", name, type(error).__name__, error)
        else:
            states[name] = "ok"
    return states


def _only_get(view: Callable[[HttpRequest], JsonResponse]) -> Callable[[HttpRequest], HttpResponse]:
    def probe(request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            response = JsonResponse(
                error_body(
                    "method_not_allowed",
                    f'Method "{request.method}" not allowed.',
                    status_code=405,
                ),
                status=405,
            )
            response["Allow"] = "GET, HEAD"
            return response
        response = view(request)
        response["Cache-Control"] = "no-store"
        return response

    return probe


@_only_get
def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@_only_get
def ready(request: HttpRequest) -> JsonResponse:
    states = readiness()
    down = [name for name, state in states.items() if state != "ok"]
    if not down:
        return JsonResponse({"status": "ok", "checks": states})
    body = error_body("not_ready", f"Not ready: {', '.join(down)} unavailable.", status_code=503)
    return JsonResponse({**body, "status": "unavailable", "checks": states}, status=503)


# Paths answered before routing, on every host.
PROBES: dict[str, Callable[[HttpRequest], HttpResponse]] = {"/health/": health, "/ready/": ready}
