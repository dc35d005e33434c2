"""Tenancy benchmarks: tenant provisioning (template clone vs replaying migrations) and the cost
of routing a request by host. Each compares against its baseline in the same run; figures are
medians over repeats.

Routing options measured (the README's "Request flow" says which one we chose and why):
- reading the route from the database on every request (always fresh: the baseline);
- the shared, versioned route cache on Redis (tenancy.selectors: fresh on the next request after a
  change, one Redis round trip per request, shared by every worker so thousands of hosts stay
  cached);
- the same cache kept in process memory (LocMem): what any per-process cache costs at best, and
  what it cannot give: another worker's change is not seen.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import redis
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.test.utils import override_settings
from psycopg import sql

from bench.measure import connection, median_ms, tenant_drop, timed
from tenancy.models import Domain
from tenancy.provisioning import template_ensure
from tenancy.selectors import domain_for_host, routes_forget
from tenancy.services import tenant_provision


def _provision_by_migrations(schema: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    call_command("migrate_schemas", tenant=True, schema_name=schema, interactive=False, verbosity=0)
    connection.set_schema_to_public()


def bench_provisioning(repeats: int) -> dict[str, Any]:
    template_ensure()
    clone, migrate = [], []
    for i in range(repeats):
        schema = f"bench_prov_{i}"
        clone.append(
            timed(
                partial(
                    tenant_provision,
                    name=schema,
                    schema_name=schema,
                    domain=f"{schema.replace('_', '-')}.bench",
                )
            )
        )
        tenant_drop(schema)
        migrate.append(timed(partial(_provision_by_migrations, schema)))
        tenant_drop(schema)
    clone_ms, migrate_ms = median_ms(clone), median_ms(migrate)
    return {
        "name": "tenant_provisioning",
        "what": "create a tenant with every tenant table: template clone vs replaying migrations",
        "repeats": repeats,
        "median_ms": clone_ms,
        "baseline": "migrate_schemas into an empty schema",
        "baseline_median_ms": migrate_ms,
        "ratio_to_baseline": round(clone_ms / migrate_ms, 3),
    }


@contextmanager
def _route_cache(kind: str) -> Iterator[None]:
    """Route lookups served the ``kind`` way: "database" (no cache), "redis" or "memory"."""
    if kind == "database":
        with override_settings(TENANT_ROUTE_CACHE_SECONDS=0):
            yield
        return
    if kind == "memory":
        backend: dict[str, Any] = {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {},
        }
        backend["OPTIONS"]["MAX_ENTRIES"] = 100_000
        with override_settings(CACHES={"default": backend}):
            routes_forget()
            yield
        return
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    prefix = f"bench-routes-{uuid.uuid4().hex}"
    backend = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": prefix,
    }
    try:
        with override_settings(CACHES={"default": backend}):
            routes_forget()
            yield
    finally:
        client = redis.Redis.from_url(url)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)


def _medians(kinds: list[str], repeats: int, run: Callable[[], float]) -> dict[str, float]:
    samples: dict[str, list[float]] = {kind: [] for kind in kinds}
    for _ in range(repeats):  # interleaved, so load changes on the machine hit every option alike
        for kind in kinds:
            with _route_cache(kind):
                run()  # warm: the cached options fill their cache first
                samples[kind].append(run())
    return {kind: median_ms(values) for kind, values in samples.items()}


def bench_routing(repeats: int, requests_per_repeat: int = 200) -> dict[str, Any]:
    schema = "bench_routing"
    tenant_drop(schema)
    tenant_provision(name=schema, schema_name=schema, domain="bench-routing.bench")
    client = Client(HTTP_HOST="bench-routing.bench")

    def burst() -> float:
        return timed(lambda: [client.get("/api/me/") for _ in range(requests_per_repeat)])

    try:
        per_burst = _medians(["redis", "memory", "database"], repeats, burst)
    finally:
        tenant_drop(schema)
    medians = {kind: round(ms / requests_per_repeat, 3) for kind, ms in per_burst.items()}
    return {
        "name": "tenant_routing",
        "what": "one unauthenticated request on a tenant host through every middleware, "
        "in-process, host route from the shared Redis route cache",
        "repeats": repeats,
        "requests_per_repeat": requests_per_repeat,
        "median_ms": medians["redis"],
        "baseline": "the same reading the route from the database on every request",
        "baseline_median_ms": medians["database"],
        "ratio_to_baseline": round(medians["redis"] / medians["database"], 3),
        "in_process_memory_cache_median_ms": medians["memory"],
        "route_cache_seconds": settings.TENANT_ROUTE_CACHE_SECONDS,
    }


def bench_routing_many_hosts(repeats: int, hosts: int = 2000) -> dict[str, Any]:
    """Route lookups spread over thousands of active hosts, every one of them a hit once cached.
    A per-process cache sees each host only in the share of requests its worker gets, so with a
    short lifetime it mostly misses: its cost is then the database figure."""
    schema = "bench_hosts"
    tenant_drop(schema)
    tenant = tenant_provision(name=schema, schema_name=schema, domain="bench-hosts.bench")
    names = [f"host-{i}.bench-hosts.bench" for i in range(hosts)]
    Domain.objects.bulk_create(Domain(domain=name, tenant=tenant) for name in names)

    def every_host() -> float:
        return timed(lambda: [domain_for_host(name) for name in names])

    try:
        per_pass = _medians(["redis", "memory", "database"], repeats, every_host)
    finally:
        tenant_drop(schema)
    medians = {kind: round(ms / hosts, 4) for kind, ms in per_pass.items()}
    return {
        "name": "tenant_routing_many_hosts",
        "what": f"route lookup (tenancy.selectors.domain_for_host) round-robin over {hosts} hosts, "
        "every host cached in the shared Redis route cache",
        "repeats": repeats,
        "hosts": hosts,
        "median_ms": medians["redis"],
        "baseline": "the same lookups reading the database each time",
        "baseline_median_ms": medians["database"],
        "ratio_to_baseline": round(medians["redis"] / medians["database"], 3),
        "in_process_memory_cache_median_ms": medians["memory"],
    }


def run(repeats: int) -> list[dict[str, Any]]:
    # Each routing request is an unauthenticated 401, which Django logs as a warning.
    logging.getLogger("django.request").setLevel(logging.ERROR)
    return [
        bench_provisioning(min(repeats, 10)),
        bench_routing(min(repeats, 10)),
        bench_routing_many_hosts(min(repeats, 5)),
    ]
