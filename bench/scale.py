"""Scale suite: what grows with the number of tenants, measured as the tenant count grows.

At each size of ``BENCH_SCALE_TENANTS`` (comma-separated, default ``10,100,200``; the report's run
used up to 2,000) the suite provisions tenants up to that count, then measures:

- provisioning: each tenant's ``tenant_provision`` time (the service: row, domain, schema clone,
  audit), as medians of ten-tenant windows;
- no-op ``manage.py migrate_schemas`` (a fresh process, the shared pass included), ours, and
  django-tenants' own walk over every schema (``--executor standard``) up to
  ``BENCH_SCALE_BASELINE_MAX`` tenants (default 200);
- routing: one unauthenticated request on the first tenant's host through every middleware;
- catalog: rows of pg_class and the size of the system catalogs.

Then connection memory: one connection reading every tenant table of up to
``BENCH_SCALE_MEMORY_SCHEMAS`` schemas (default: the largest size, at most 500), its backend's
memory (pg_backend_memory_contexts) as it goes, without and with recycling
(``DATABASE_MAX_SCHEMAS_PER_CONNECTION``, closed at each request boundary).

Straight lines fitted to the series extrapolate them to 10,000 tenants; plots go to
bench/results/scale_*.png and the series to bench/results/scale.md.
"""

from __future__ import annotations

import logging
import os
import statistics
import subprocess
import sys
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.test import Client
from django.test.utils import override_settings
from django_tenants.utils import schema_context

from bench.measure import connection, median_ms, tenant_drop, timed
from tenancy.models import Tenant
from tenancy.provisioning import template_ensure
from tenancy.services import tenant_provision

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
PREFIX = "bench_scale_"
EXTRAPOLATE_TO = 10_000


def _sizes() -> list[int]:
    return sorted(int(s) for s in os.environ.get("BENCH_SCALE_TENANTS", "10,100,200").split(","))


def _schema(i: int) -> str:
    return f"{PREFIX}{i:05d}"


def _manage_ms(*args: str) -> float:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE}
    command = [sys.executable, "manage.py", "migrate_schemas", "--noinput", "-v", "0", *args]
    elapsed = timed(
        lambda: subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
            command,
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
    )
    return round(elapsed * 1000, 1)


def _catalog() -> tuple[int, float]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM pg_class), sum(pg_total_relation_size(c.oid)) "
            "FROM pg_class c WHERE c.relnamespace = 'pg_catalog'::regnamespace "
            "AND c.relkind = 'r'"
        )
        relations, size = cursor.fetchone()
    return relations, round(float(size) / 2**20, 2)


def _routing_ms(host: str, requests: int = 30) -> float:
    client = Client(HTTP_HOST=host)
    client.get("/api/me/")
    result = median_ms([timed(lambda: client.get("/api/me/")) for _ in range(requests)])
    connection.set_schema_to_public()
    return result


def _tenant_models() -> list[Any]:
    shared = set(settings.SHARED_APPS)
    return [
        model
        for label in settings.TENANT_APPS
        if label not in shared
        for model in apps.get_app_config(label.rsplit(".", 1)[-1]).get_models()
    ]


def _backend_memory_kb() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT sum(total_bytes) FROM pg_backend_memory_contexts")
        return int(cursor.fetchone()[0]) // 1024


def _memory_series(schemas: list[str], limit: int, every: int) -> list[tuple[int, int]]:
    """Backend memory (KB) after each ``every`` schemas read, each schema one "request" that reads
    every tenant table, with recycling at ``limit`` schemas (0: never) between requests."""
    models = _tenant_models()
    series = []
    max_age = connection.settings_dict["CONN_MAX_AGE"]
    connection.settings_dict["CONN_MAX_AGE"] = None  # only the schema count may close it
    with override_settings(DATABASE_MAX_SCHEMAS_PER_CONNECTION=limit):
        connection.close()
        series.append((0, _backend_memory_kb()))
        for n, schema in enumerate(schemas, start=1):
            with schema_context(schema):
                for model in models:
                    model.objects.exists()
            connection.close_if_unusable_or_obsolete()
            if n % every == 0 or n == len(schemas):
                connection.set_schema_to_public()
                series.append((n, _backend_memory_kb()))
        connection.close()
    connection.settings_dict["CONN_MAX_AGE"] = max_age
    return series


def _fit(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least-squares slope and intercept."""
    if len(xs) < 2:
        return 0.0, ys[0] if ys else 0.0
    slope, intercept = statistics.linear_regression([float(x) for x in xs], [float(y) for y in ys])
    return slope, intercept


def _plot(
    name: str, title: str, ylabel: str, lines: Mapping[str, Sequence[tuple[float, float]]]
) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=100)
    for label, points in lines.items():
        if points:
            ax.plot(*zip(*points, strict=True), marker="o", label=label)
    ax.set_title(title)
    ax.set_xlabel("tenants" if "memory" not in name else "schemas read by one connection")
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path = RESULTS / f"{name}.png"
    fig.savefig(path)
    plt.close(fig)
    return path.name


def _provision(schema: str) -> None:
    tenant_provision(name=schema, schema_name=schema, domain=f"{schema.replace('_', '-')}.bench")
    connection.set_schema_to_public()


def _drop_bench_tenants() -> None:
    connection.set_schema_to_public()
    for schema in Tenant.objects.filter(schema_name__startswith=PREFIX).values_list(
        "schema_name", flat=True
    ):
        tenant_drop(schema)


def run(repeats: int) -> list[dict[str, Any]]:
    logging.getLogger("django.request").setLevel(logging.ERROR)
    sizes = _sizes()
    baseline_max = int(os.environ.get("BENCH_SCALE_BASELINE_MAX", "200"))
    memory_schemas = int(os.environ.get("BENCH_SCALE_MEMORY_SCHEMAS", str(min(sizes[-1], 500))))
    _drop_bench_tenants()
    template_ensure()
    provision_s: list[float] = []
    rows = []
    try:
        for size in sizes:
            for i in range(len(provision_s), size):
                schema = _schema(i)
                provision_s.append(timed(partial(_provision, schema)))
            _manage_ms()  # warm: the first run after new tenants stamps nothing, but fills caches
            noop = statistics.median(_manage_ms() for _ in range(3))
            baseline = (
                _manage_ms("--executor", "standard")  # one run: a walk, its length dwarfs the noise
                if size <= baseline_max
                else None
            )
            relations, catalog_mb = _catalog()
            rows.append(
                {
                    "tenants": size,
                    "provision_ms_last_10": median_ms(provision_s[-10:]),
                    "noop_migrate_ms": noop,
                    "noop_migrate_django_tenants_ms": baseline,
                    "routing_ms": _routing_ms(f"{_schema(0).replace('_', '-')}.bench"),
                    "pg_class_rows": relations,
                    "catalog_mb": catalog_mb,
                }
            )
            print(rows[-1], flush=True)
        schemas = [_schema(i) for i in range(min(memory_schemas, len(provision_s)))]
        every = max(1, len(schemas) // 10)
        limit = settings.DATABASE_MAX_SCHEMAS_PER_CONNECTION or 50
        memory_kept = _memory_series(schemas, 0, every)
        memory_recycled = _memory_series(schemas, limit, every)
    finally:
        _drop_bench_tenants()
    return _report(rows, provision_s, memory_kept, memory_recycled, limit)


def _report(
    rows: list[dict[str, Any]],
    provision_s: list[float],
    memory_kept: list[tuple[int, int]],
    memory_recycled: list[tuple[int, int]],
    limit: int,
) -> list[dict[str, Any]]:
    RESULTS.mkdir(exist_ok=True)
    tenants = [r["tenants"] for r in rows]
    first, last = rows[0], rows[-1]
    windows = [(i + 10, median_ms(provision_s[i : i + 10])) for i in range(0, len(provision_s), 10)]
    early = median_ms(provision_s[10:20]) if len(provision_s) >= 20 else windows[0][1]
    catalog_slope, catalog_at_0 = _fit(tenants, [r["catalog_mb"] for r in rows])
    migrate_slope, migrate_at_0 = _fit(tenants, [r["noop_migrate_ms"] for r in rows])
    provision_slope, provision_at_0 = _fit([w[0] for w in windows], [w[1] for w in windows])
    memory_slope, _ = _fit([p[0] for p in memory_kept], [p[1] for p in memory_kept])
    plots = [
        _plot("scale_provisioning", "tenant_provision, median of each 10 tenants", "ms",
              {"provisioning": windows}),
        _plot("scale_noop_migrate", "no-op manage.py migrate_schemas", "ms", {
            "fingerprint skip (ours)": [(r["tenants"], r["noop_migrate_ms"]) for r in rows],
            "django-tenants (every schema)": [
                (r["tenants"], r["noop_migrate_django_tenants_ms"])
                for r in rows if r["noop_migrate_django_tenants_ms"] is not None
            ],
        }),
        _plot("scale_routing", "one request on a tenant host", "ms",
              {"routing": [(r["tenants"], r["routing_ms"]) for r in rows]}),
        _plot("scale_catalog", "system catalog size", "MB",
              {"pg_catalog": [(r["tenants"], r["catalog_mb"]) for r in rows]}),
        _plot("scale_connection_memory", "one connection's backend memory", "KB", {
            "kept open": memory_kept,
            f"recycled every {limit} schemas": memory_recycled,
        }),
    ]  # fmt: skip
    extrapolated = {
        "catalog_mb": round(catalog_at_0 + catalog_slope * EXTRAPOLATE_TO, 1),
        "noop_migrate_ms": round(migrate_at_0 + migrate_slope * EXTRAPOLATE_TO, 1),
        "provision_ms": round(provision_at_0 + provision_slope * EXTRAPOLATE_TO, 1),
    }
    lines = [
        "# Scale suite (`bench/scale.py`)",
        "",
        "| tenants | provision ms (last 10) | no-op migrate ms | django-tenants' migrate ms "
        "| routing ms | pg_class rows | catalog MB |",
        "|---|---|---|---|---|---|---|",
        *(
            f"| {r['tenants']} | {r['provision_ms_last_10']} | {r['noop_migrate_ms']} "
            f"| {r['noop_migrate_django_tenants_ms'] or '-'} | {r['routing_ms']} "
            f"| {r['pg_class_rows']} | {r['catalog_mb']} |"
            for r in rows
        ),
        "",
        f"Slopes (least squares): catalog {catalog_slope * 1000:.1f} MB per 1,000 tenants, no-op "
        f"migrate {migrate_slope * 1000:.1f} ms per 1,000 tenants, provisioning "
        f"{provision_slope * 1000:.2f} ms per 1,000 tenants, connection memory "
        f"{memory_slope:.0f} KB per schema read (kept open). At {EXTRAPOLATE_TO:,} tenants: "
        f"catalog {extrapolated['catalog_mb']} MB, no-op migrate "
        f"{extrapolated['noop_migrate_ms']} ms, provisioning {extrapolated['provision_ms']} ms.",
        "",
        "| schemas read | backend KB, kept open | backend KB, recycled |",
        "|---|---|---|",
        *(
            f"| {k[0]} | {k[1]} | {r[1]} |"
            for k, r in zip(memory_kept, memory_recycled, strict=True)
        ),
        "",
        *(f"![{p}]({p})" for p in plots),
    ]
    (RESULTS / "scale.md").write_text("\n".join(lines) + "\n")
    noop_ratio = round(last["noop_migrate_ms"] / first["noop_migrate_ms"], 3)
    return [
        {
            "name": "scale_noop_migrate",
            "what": f"no-op manage.py migrate_schemas (fresh process) at {last['tenants']} tenants",
            "median_ms": last["noop_migrate_ms"],
            "baseline": f"the same at {first['tenants']} tenants",
            "baseline_median_ms": first["noop_migrate_ms"],
            "ratio_to_baseline": noop_ratio,
            "series": rows,
            "extrapolated_to_10000": extrapolated,
        },
        {
            "name": "scale_provisioning",
            "what": f"tenant_provision, tenants {len(provision_s) - 9}-{len(provision_s)}",
            "median_ms": median_ms(provision_s[-10:]),
            "baseline": "tenants 11-20",
            "baseline_median_ms": early,
            "ratio_to_baseline": round(median_ms(provision_s[-10:]) / early, 3),
            "windows": windows,
        },
        {
            "name": "scale_connection_memory",
            "what": f"backend memory after one connection read every tenant table of "
            f"{memory_kept[-1][0]} schemas, recycled every {limit} schemas",
            "median_kb": memory_recycled[-1][1],
            "baseline": "the same connection kept open",
            "baseline_median_kb": memory_kept[-1][1],
            "ratio_to_baseline": round(memory_recycled[-1][1] / memory_kept[-1][1], 3),
            "kept_open_kb": memory_kept,
            "recycled_kb": memory_recycled,
        },
    ]
