"""Tenancy benchmarks: tenant provisioning (template clone vs replaying migrations) and the cost
of routing a request by host (cached vs uncached domain lookup). Each compares against its
baseline in the same run; figures are medians over repeats."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import override_settings
from psycopg import sql

from bench.measure import median_ms, tenant_drop, timed
from core.provisioning import template_ensure
from core.selectors import routes_forget
from core.services import tenant_provision


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
                lambda schema=schema: tenant_provision(
                    name=schema, schema_name=schema, domain=f"{schema.replace('_', '-')}.bench"
                )
            )
        )
        tenant_drop(schema)
        migrate.append(timed(lambda schema=schema: _provision_by_migrations(schema)))
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


def bench_routing(repeats: int, requests_per_repeat: int = 200) -> dict[str, Any]:
    schema = "bench_routing"
    tenant_drop(schema)
    tenant_provision(name=schema, schema_name=schema, domain="bench-routing.bench")
    client = Client(HTTP_HOST="bench-routing.bench")

    def burst() -> float:
        return timed(lambda: [client.get("/api/me/") for _ in range(requests_per_repeat)])

    try:
        cached = [burst() / requests_per_repeat for _ in range(repeats)]
        with override_settings(TENANT_ROUTE_CACHE_SECONDS=0):
            routes_forget()
            uncached = [burst() / requests_per_repeat for _ in range(repeats)]
    finally:
        tenant_drop(schema)
    cached_ms, uncached_ms = median_ms(cached), median_ms(uncached)
    return {
        "name": "tenant_routing",
        "what": "one unauthenticated request on a tenant host through every middleware, in-process",
        "repeats": repeats,
        "requests_per_repeat": requests_per_repeat,
        "median_ms": cached_ms,
        "baseline": "the same with the host-route cache off (one domain query per request)",
        "baseline_median_ms": uncached_ms,
        "ratio_to_baseline": round(cached_ms / uncached_ms, 3),
        "route_cache_seconds": settings.TENANT_ROUTE_CACHE_SECONDS,
    }


def run(repeats: int) -> list[dict[str, Any]]:
    # Each routing request is an unauthenticated 401, which Django logs as a warning.
    logging.getLogger("django.request").setLevel(logging.ERROR)
    return [bench_provisioning(min(repeats, 10)), bench_routing(min(repeats, 10))]
