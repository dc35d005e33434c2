"""Rate limits against a noisy neighbour: tenant A's API key floods its host at several times
its tier's limit from other processes (as other workers would), while tenant B's signed-in
requests are timed. The limiter counts in the shared Redis (production's cache), so every
process sees A's one budget; A's excess is refused with 429 before authentication or any query.

Figures: B's median request while A floods, against B's median with A quiet, interleaved in
the same run (goal: within 1.2x); what A got through per second against its limit and what a
refused request costs; and, for contrast, B's median while the same flood hits a tenant
without a limit (every request served).
"""

from __future__ import annotations

import io
import logging
import multiprocessing
import os
import statistics
import sys
import time
import uuid
from collections import Counter
from typing import Any

import environ
import redis
from django.core.handlers.wsgi import WSGIHandler
from django.db import connections
from django.test import Client
from django.test.utils import override_settings
from rest_framework_simplejwt.tokens import RefreshToken

from apikeys.services import api_key_create
from bench.measure import connection, median_ms, tenant_drop, timed
from config.settings.cache import redis_cache
from tenancy.models import Tenant
from tenancy.services import tenant_provision
from users.authentication import TENANT_CLAIM
from users.models import User
from users.roles import Role

NOISY, UNLIMITED, QUIET = "bench_rl_noisy", "bench_rl_unlimited", "bench_rl_quiet"
NOISY_HOST, UNLIMITED_HOST = "bench-rl-noisy.bench", "bench-rl-unlimited.bench"
QUIET_HOST = "bench-rl-quiet.bench"
WINDOW_SECONDS = 1
NOISY_LIMIT = 5  # requests per second for the noisy tenant's tier
FLOODERS = 1
FLOOD_RATE = 40  # requests per second sent by the flooding process: 8x the limit


def _wsgi_get(handler: WSGIHandler, host: str, path: str, authorization: str) -> int:
    """One GET through the WSGI handler, as a server (gunicorn) calls it: its status."""
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": host,
        "SERVER_PORT": "80", "HTTP_HOST": host, "HTTP_AUTHORIZATION": authorization,
        "REMOTE_ADDR": "198.51.100.7", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.input": io.BytesIO(),
        "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr, "wsgi.multithread": False,
        "wsgi.multiprocess": True, "wsgi.run_once": False, "wsgi.version": (1, 0),
    }  # fmt: skip
    status: list[str] = []

    def start_response(line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        status.append(line)  # returns no write() callable: Django's handler never uses it

    body = handler(environ, start_response)
    for _chunk in body:
        pass
    body.close()
    return int(status[0].split()[0])


def _flood(targets: list[tuple[str, str]], mode: Any, go: Any, stop: Any, results: Any) -> None:
    """A flooding client in its own process, started (and warmed up) once: paced requests to
    ``targets[mode]`` (host, key) while ``go`` is set, idle while it is not, until ``stop``.
    Reports the server's time per answer by target and status, and how long each target was
    flooded."""
    connections.close_all()  # never the parent's sockets
    handler = WSGIHandler()
    for host, secret in targets:  # warm: middleware, URL resolvers, connections
        for _ in range(10):
            _wsgi_get(handler, host, "/api/customers/", f"Api-Key {secret}")
    results.put("ready")
    timings: dict[tuple[int, int], list[float]] = {}
    flooding = [0.0] * len(targets)
    while not stop.is_set():
        if not go.wait(timeout=0.05):
            continue
        target = mode.value
        host, secret = targets[target]
        started, sent = time.monotonic(), 0
        while go.is_set():
            begin = time.perf_counter()
            status = _wsgi_get(handler, host, "/api/customers/", f"Api-Key {secret}")
            timings.setdefault((target, status), []).append(time.perf_counter() - begin)
            sent += 1
            pause = started + sent / FLOOD_RATE - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        flooding[target] += time.monotonic() - started
    results.put((timings, flooding))
    connections.close_all()


def _timed_requests(client: Client, count: int) -> list[float]:
    return [timed(lambda: client.get("/api/services/")) for _ in range(count)]


def _drop_tenants() -> None:
    connection.set_schema_to_public()
    User.objects.filter(tenant__schema_name__in=[NOISY, UNLIMITED, QUIET]).delete()
    for schema in (NOISY, UNLIMITED, QUIET):
        tenant_drop(schema)


def _business(schema: str, host: str, tier: str) -> tuple[Tenant, User]:
    tenant = tenant_provision(name=schema, schema_name=schema, domain=host, subscription_tier=tier)
    owner = User.objects.create_user(
        email=f"owner-{uuid.uuid4().hex[:8]}@{host}", role=Role.TENANT_OWNER, tenant=tenant
    )
    return tenant, owner


def _key(tenant: Tenant, owner: User) -> str:
    return api_key_create(
        tenant=tenant, actor=owner, name="flood", scopes=["customers:read"]
    ).secret


def bench_noisy_neighbour(repeats: int, requests_per_phase: int = 100) -> dict[str, Any]:
    _drop_tenants()
    noisy, noisy_owner = _business(NOISY, NOISY_HOST, "PROFESSIONAL")
    unlimited, unlimited_owner = _business(UNLIMITED, UNLIMITED_HOST, "ENTERPRISE")
    _quiet, quiet_owner = _business(QUIET, QUIET_HOST, "BUSINESS")
    targets = [
        (NOISY_HOST, _key(noisy, noisy_owner)),
        (UNLIMITED_HOST, _key(unlimited, unlimited_owner)),
    ]
    token = RefreshToken.for_user(quiet_owner)
    token[TENANT_CLAIM] = QUIET
    quiet_client = Client(HTTP_HOST=QUIET_HOST, HTTP_AUTHORIZATION=f"Bearer {token.access_token}")
    connection.set_schema_to_public()

    samples: dict[str, list[float]] = {"quiet": [], "limited": [], "unlimited": []}
    answers: dict[tuple[int, int], list[float]] = {}
    flood_seconds = [0.0, 0.0]
    context = multiprocessing.get_context("fork")
    mode = context.Value("i", 0)
    go, stop, results = context.Event(), context.Event(), context.Queue()
    connections.close_all()
    flooders = [
        context.Process(target=_flood, args=(targets, mode, go, stop, results))
        for _ in range(FLOODERS)
    ]
    try:
        for process in flooders:
            process.start()
        for _ in flooders:
            assert results.get(timeout=120) == "ready"
        _timed_requests(quiet_client, 20)  # warm: connections, route cache, token checks
        for _ in range(repeats):  # interleaved, so the machine's load hits every phase alike
            samples["quiet"] += _timed_requests(quiet_client, requests_per_phase)
            for target, phase in enumerate(("limited", "unlimited")):
                mode.value = target
                go.set()
                time.sleep(0.2)  # the flood is under way before B is timed
                samples[phase] += _timed_requests(quiet_client, requests_per_phase)
                go.clear()
                time.sleep(0.2)
        stop.set()
        for _ in flooders:
            timings, seconds = results.get(timeout=60)
            for key, values in timings.items():
                answers.setdefault(key, []).extend(values)
            flood_seconds = [max(old, new) for old, new in zip(flood_seconds, seconds, strict=True)]
        for process in flooders:
            process.join()
    finally:
        stop.set()
        _drop_tenants()
    medians = {phase: median_ms(values) for phase, values in samples.items()}

    def answered(target: int) -> Counter[int]:
        return Counter({status: len(v) for (t, status), v in answers.items() if t == target})

    limited, free = answered(0), answered(1)
    return {
        "name": "ratelimit_noisy_neighbour",
        "what": f"tenant B's signed-in GET /api/services/ (in-process) while tenant A's API key "
        f"floods A's host from {FLOODERS} other processes (up to {FLOODERS * FLOOD_RATE}/s) "
        f"against its limit of {NOISY_LIMIT}/s, counted in Redis",
        "repeats": repeats,
        "requests_per_phase": requests_per_phase,
        "median_ms": medians["limited"],
        "p90_ms": round(statistics.quantiles(samples["limited"], n=10)[-1] * 1000, 3),
        "baseline": "the same requests of B with A quiet, interleaved",
        "baseline_median_ms": medians["quiet"],
        "ratio_to_baseline": round(medians["limited"] / medians["quiet"], 3),
        "noisy_sent_per_second": round(sum(limited.values()) / flood_seconds[0], 1),
        "noisy_answered": {str(status): count for status, count in sorted(limited.items())},
        "noisy_admitted_per_second": round(
            sum(c for status, c in limited.items() if status != 429) / flood_seconds[0], 1
        ),
        "noisy_limit_per_second": NOISY_LIMIT,
        "noisy_median_ms_by_status": {
            str(status): median_ms(v) for (t, status), v in sorted(answers.items()) if t == 0
        },
        "same_flood_without_a_limit_median_ms": medians["unlimited"],
        "same_flood_without_a_limit_ratio": round(medians["unlimited"] / medians["quiet"], 3),
        "same_flood_without_a_limit_sent_per_second": round(
            sum(free.values()) / flood_seconds[1], 1
        ),
    }


def run(repeats: int) -> list[dict[str, Any]]:
    logging.getLogger("django.request").setLevel(logging.ERROR)  # the flood's 429s
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    prefix = f"bench-ratelimit-{uuid.uuid4().hex}"
    cache = {"default": redis_cache(environ.Env(), url) | {"KEY_PREFIX": prefix}}
    limits = {
        "FREE": {"tenant_requests": None, "api_key_requests": None},
        "PROFESSIONAL": {"tenant_requests": NOISY_LIMIT, "api_key_requests": NOISY_LIMIT},
        "BUSINESS": {"tenant_requests": 1_000, "api_key_requests": 1_000},
        "ENTERPRISE": {"tenant_requests": None, "api_key_requests": None},
    }
    try:
        with override_settings(
            CACHES=cache, TIER_RATE_LIMITS=limits, RATE_LIMIT_WINDOW_SECONDS=WINDOW_SECONDS
        ):
            return [bench_noisy_neighbour(min(repeats, 10))]
    finally:
        client = redis.Redis.from_url(url)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
