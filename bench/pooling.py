"""What pinning the search path per transaction costs a request: a signed-in tenant ``GET
/api/me/`` through the WSGI handler, on this project's backend (core.db) and, as the baseline in
the same run, on django-tenants' own backend (a session-level ``SET search_path`` before each
query), connected directly and through a PgBouncer in transaction mode (where a round trip
costs a hop more). The wire protocol is counted too: round trips (server ReadyForQuery
messages) and statements (CommandComplete messages) per request."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.core.handlers.wsgi import WSGIHandler
from django.db import connection, connections
from django.db.utils import load_backend
from rest_framework_simplejwt.tokens import RefreshToken

from bench.measure import median_ms, tenant_drop, timed
from core.tests.pooler import Site, get, pgbouncer_binary, running_pgbouncer, wire_messages
from tenancy.services import tenant_provision
from users.authentication import TENANT_CLAIM
from users.models import User

SCHEMA = "bench_pooling"
HOST = "bench-pooling.bench"
BACKENDS = {"core.db": "core.db", "django-tenants": "django_tenants.postgresql_backend"}
PATH = "/api/me/"


def _site(user: User) -> Site:
    refresh = RefreshToken.for_user(user)
    refresh[TENANT_CLAIM] = SCHEMA
    return Site(SCHEMA, HOST, f"Bearer {refresh.access_token}")


def _on_backend(engine: str, database: dict[str, Any], work: Callable[[], Any]) -> Any:
    """Run ``work`` in a thread whose default connection is ``engine`` to ``database``."""

    def in_thread() -> Any:
        connections["default"] = load_backend(engine).DatabaseWrapper(database, "default")
        try:
            return work()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(in_thread).result()


def _wire_counts(site: Site) -> dict[str, int]:
    handler = WSGIHandler()
    status, _ = get(handler, site, PATH)
    assert status.startswith("200"), status
    with wire_messages(connection) as messages:
        get(handler, site, PATH)
    return {
        "round_trips": sum(m.startswith("B ReadyForQuery") for m in messages),
        "statements": sum(m.startswith("B CommandComplete") for m in messages),
    }


def _seconds_per_request(site: Site, requests: int) -> tuple[float, float]:
    """Wall-clock and CPU seconds (this process; the caller only waits) per request."""
    handler = WSGIHandler()
    get(handler, site, PATH)  # connects
    cpu = time.process_time()
    wall = timed(lambda: [get(handler, site, PATH) for _ in range(requests)])
    return wall / requests, (time.process_time() - cpu) / requests


def _medians(
    site: Site, databases: dict[str, dict[str, Any]], repeats: int, requests: int
) -> dict[tuple[str, str], tuple[float, float]]:
    """(backend, route) -> median wall and CPU ms; the rounds alternate, so every figure sees
    the same machine load."""
    samples: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for _ in range(repeats):
        for route, database in databases.items():
            for name, engine in BACKENDS.items():
                samples.setdefault((name, route), []).append(
                    _on_backend(engine, database, lambda: _seconds_per_request(site, requests))
                )
    return {key: _wall_and_cpu_ms(values) for key, values in samples.items()}


def _wall_and_cpu_ms(samples: list[tuple[float, float]]) -> tuple[float, float]:
    """The median wall and CPU ms of (wall, CPU) seconds samples."""
    wall, cpu = zip(*samples, strict=True)
    return median_ms(list(wall)), median_ms(list(cpu))


def bench_tenant_request(repeats: int, requests_per_repeat: int = 100) -> dict[str, Any]:
    tenant_drop(SCHEMA)
    tenant = tenant_provision(name=SCHEMA, schema_name=SCHEMA, domain=HOST)
    user = User.objects.create_user(email=f"owner@{HOST}", role="TENANT_OWNER", tenant=tenant)
    direct = dict(connection.settings_dict)
    try:
        site = _site(user)
        counts = {
            name: _on_backend(engine, direct, lambda: _wire_counts(site))
            for name, engine in BACKENDS.items()
        }
        if pgbouncer_binary() is None:
            medians = _medians(site, {"direct": direct}, repeats, requests_per_repeat)
        else:
            with running_pgbouncer(direct) as bouncer:
                pooled = {**direct, "HOST": bouncer.host, "PORT": bouncer.port}
                databases = {"direct": direct, "pgbouncer": pooled}
                medians = _medians(site, databases, repeats, requests_per_repeat)
    finally:
        user.delete()
        tenant_drop(SCHEMA)
    pinned, baseline = counts["core.db"], counts["django-tenants"]
    (pinned_ms, pinned_cpu_ms), (baseline_ms, baseline_cpu_ms) = (
        medians["core.db", "direct"],
        medians["django-tenants", "direct"],
    )
    result = {
        "name": "tenant_request_search_path",
        "what": f"signed-in GET {PATH} on a tenant host (in-process WSGI), the search path "
        f"pinned per transaction: {pinned['round_trips']} round trips, "
        f"{pinned['statements']} statements",
        "repeats": repeats,
        "requests_per_repeat": requests_per_repeat,
        "median_ms": pinned_ms,
        "median_cpu_ms": pinned_cpu_ms,
        "round_trips": pinned["round_trips"],
        "statements": pinned["statements"],
        "baseline": "django-tenants' backend, SET search_path before each query: "
        f"{baseline['round_trips']} round trips, {baseline['statements']} statements",
        "baseline_median_ms": baseline_ms,
        "baseline_median_cpu_ms": baseline_cpu_ms,
        "baseline_round_trips": baseline["round_trips"],
        "baseline_statements": baseline["statements"],
        "ratio_to_baseline": round(pinned_ms / baseline_ms, 3),
    }
    if ("core.db", "pgbouncer") in medians:
        via, baseline_via = medians["core.db", "pgbouncer"], medians["django-tenants", "pgbouncer"]
        result |= {
            "via_pgbouncer_median_ms": via[0],
            "baseline_via_pgbouncer_median_ms": baseline_via[0],
            "via_pgbouncer_ratio_to_baseline": round(via[0] / baseline_via[0], 3),
        }
    return result


def run(repeats: int) -> list[dict[str, Any]]:
    return [bench_tenant_request(min(repeats, 20))]
