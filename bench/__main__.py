"""``python -m bench``: run every benchmark suite of this package, write one JSON file per
benchmark to bench/results/ and a markdown table to bench/results/README.md.

A suite is a module of this package with ``run(repeats) -> list[dict]``; each dict has at least
``name``, ``what``, ``median_ms`` or another median, ``baseline`` and ``ratio_to_baseline``.
``BENCH_ONLY=scale,tenancy`` runs only those suites and replaces only their rows of the table.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import pkgutil
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def _figure(result: dict) -> str:
    for key, unit in (
        ("median_ms", "ms"),
        ("median_attempts_per_second", "/s"),
        ("median_kb", "KB"),
        ("bytes", "B"),
    ):
        if key in result:
            return f"{result[key]} {unit}"
    return "?"


def _baseline(result: dict) -> str:
    for key, unit in (
        ("baseline_median_ms", "ms"),
        ("baseline_median_inserts_per_second", "/s"),
        ("baseline_median_kb", "KB"),
        ("baseline_bytes", "B"),
    ):
        if key in result:
            return f"{result[key]} {unit}"
    return "?"


def _replace_rows(readme: Path, rows: dict[str, str]) -> None:
    """Put ``rows`` (by benchmark name) into the table of ``readme``, keeping every other line."""
    lines = readme.read_text().splitlines()
    for i, line in enumerate(lines):
        name = line.split("|")[1].strip() if line.startswith("| ") else None
        if name in rows:
            lines[i] = rows.pop(name)
    last_row = max(i for i, line in enumerate(lines) if line.startswith("| "))
    lines[last_row + 1 : last_row + 1] = rows.values()
    readme.write_text("\n".join(lines) + "\n")


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    # Bookings publish their outbox tasks as in production, to a queue no worker reads, emptied
    # at the end (the bench's tenants are gone by then).
    os.environ.setdefault("NOTIFICATIONS_QUEUE", "bench-outbox")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    # The runs write thousands of audit lines (bookings, tenants) that only drown the figures.
    logging.getLogger("security").setLevel(logging.WARNING)
    from django.core.management import call_command

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    repeats = int(os.environ.get("BENCH_REPEATS", "30"))
    package = Path(__file__).resolve().parent
    # ``python -m bench availability scheduling`` (or BENCH_ONLY=availability,scheduling) runs only
    # those suites and replaces only their rows of bench/results/README.md.
    only = {name for name in os.environ.get("BENCH_ONLY", "").split(",") if name} | set(
        sys.argv[1:]
    )
    results = []
    for module in sorted(m.name for m in pkgutil.iter_modules([str(package)])):
        if only and module not in only:
            continue
        suite = importlib.import_module(f"bench.{module}")
        if callable(getattr(suite, "run", None)):
            results.extend(suite.run(repeats))

    from config.celery import app

    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge(os.environ["NOTIFICATIONS_QUEUE"])

    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    machine = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }
    for result in results:
        result |= {"measured_at": stamp, "machine": machine}
        (RESULTS / f"{result['name']}.json").write_text(json.dumps(result, indent=2) + "\n")
    rows = [
        f"| {r['name']} | {r['what']} | {_figure(r)} | {_baseline(r)}: {r['baseline']} "
        f"| {r['ratio_to_baseline']} |"
        for r in results
    ]
    if only and (RESULTS / "README.md").exists():
        _replace_rows(
            RESULTS / "README.md", {r["name"]: row for r, row in zip(results, rows, strict=True)}
        )
        print("\n".join(rows))
        return
    lines = [
        "# Benchmark results",
        "",
        f"Measured {stamp} on {machine['cpus']} CPUs, Python {machine['python']}. Medians over "
        "repeats; each figure is compared with a baseline measured in the same run.",
        "",
        "| benchmark | what | median | baseline | ratio |",
        "|---|---|---|---|---|",
    ]
    lines.extend(rows)
    (RESULTS / "README.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
