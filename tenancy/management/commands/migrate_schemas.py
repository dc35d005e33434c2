"""``migrate_schemas``: django-tenants' command, in time proportional to the work.

Every tenant schema carries the migrations fingerprint of the code that last migrated it
completely (its schema comment; clones of the template carry the template's). With no schema,
app or migration named, the tenant pass asks one query which schemas are behind, migrates only
those, in parallel processes (``--processes``, default: the machine's cores), each one's failure
isolated: the others go on, and the summary names every failure and the command exits non-zero.
Anything narrower (``--schema``, an app label, ``--fake``, ``--plan``...) is django-tenants' own
path, after which the named schema is stamped, or unstamped when a partial or backwards migrate
left it behind.
"""

from __future__ import annotations

import multiprocessing
import os
import traceback
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from django.core.management.base import CommandError
from django.db import connections
from django_tenants.management.commands.migrate_schemas import MigrateSchemasCommand
from django_tenants.migration_executors.base import run_migrations
from tqdm import tqdm

from core.db.connection import connection
from tenancy.provisioning import migrations_fingerprint, schema_stamp, tenant_schemas_behind

# Options that make a run something other than "bring every tenant up to date".
_NARROWING = (
    "app_label", "migration_name", "fake", "fake_initial", "plan", "prune", "run_syncdb",
    "check_unapplied", "executor",
)  # fmt: skip


def migrate_one_schema(schema: str, options: dict[str, Any]) -> tuple[str, str | None]:
    """Migrate ``schema`` and stamp it; (schema, None) or (schema, the error's traceback).

    Runs in a worker process, or in the command's own when it cannot fork."""
    try:
        run_migrations([], options, "fingerprint", schema, allow_atomic=True)
        if not schema_stamp(schema=schema):
            return schema, "migrated, yet migrations on disk are still unapplied"
        return schema, None
    except Exception:
        return schema, traceback.format_exc()
    finally:
        connection.set_schema_to_public()


class Command(MigrateSchemasCommand):
    help = (
        MigrateSchemasCommand.help
        + " Tenant schemas whose migrations fingerprint matches the code are skipped; the rest "
        "are migrated in parallel, each failure isolated and reported."
    )

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--processes",
            type=int,
            default=os.cpu_count() or 1,
            help="Tenant schemas migrated at once, each in its own process (default: the cores).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        narrowed = options.get("schema_name") or any(options.get(o) for o in _NARROWING)
        if narrowed or (options.get("shared") and not options.get("tenant")):
            super().handle(*args, **options)
            schema = options.get("schema_name")
            if schema and not options.get("plan") and schema != "public":
                connection.set_schema_to_public()
                schema_stamp(schema=schema)
            return
        if not options.get("tenant"):  # neither flag: the public schema first, as django-tenants
            super().handle(*args, **{**options, "shared": True, "tenant": False})
        self._migrate_tenants_behind(options)

    def _migrate_tenants_behind(self, options: dict[str, Any]) -> None:
        connection.set_schema_to_public()
        verbosity = int(options["verbosity"])
        total, behind = tenant_schemas_behind(fingerprint=migrations_fingerprint())
        if verbosity >= 1:
            self.stdout.write(
                f"Tenant schemas: {total}, behind the migrations on disk: {len(behind)}."
            )
        if not behind:
            return
        # Plain values only: they travel to the worker processes. The checks ran once already.
        forwarded = {k: v for k, v in options.items() if k not in ("stdout", "stderr")}
        forwarded |= {"interactive": False, "skip_checks": True}
        # A worker's own migration output only at -v 2 and above; the bar and summary otherwise.
        forwarded["verbosity"] = verbosity if verbosity >= 2 else 0
        processes = max(1, min(options["processes"], len(behind)))
        failures: dict[str, str] = {}
        with tqdm(
            total=len(behind), desc="migrating tenant schemas", unit="schema",
            disable=verbosity == 0, file=self.stderr._out,  # the raw stream: the bar ends no line
        ) as bar:  # fmt: skip
            for schema, error in self._run(behind, forwarded, processes):
                if error is not None:
                    failures[schema] = error
                bar.update()
        migrated = len(behind) - len(failures)
        if verbosity >= 1:
            self.stdout.write(f"Migrated {migrated} of {len(behind)} tenant schemas behind.")
        if failures:
            for schema, error in sorted(failures.items()):
                last_line = error.strip().splitlines()[-1]
                self.stderr.write(f"FAILED {schema}: {last_line}")
                if verbosity >= 2:
                    self.stderr.write(error)
            raise CommandError(
                f"{len(failures)} of {len(behind)} tenant schemas failed to migrate: "
                + ", ".join(sorted(failures))
            )

    def _run(
        self, schemas: list[str], options: dict[str, Any], processes: int
    ) -> Iterator[tuple[str, str | None]]:
        # Forked workers must not share the parent's open database connections; inside an atomic
        # block (a caller's transaction) nothing may close them, so the schemas go one by one.
        if processes == 1 or connection.in_atomic_block:
            for schema in schemas:
                yield migrate_one_schema(schema, options)
            return
        connections.close_all()
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
            futures = {pool.submit(migrate_one_schema, s, options): s for s in schemas}
            for future in as_completed(futures):
                try:
                    yield future.result()
                except Exception:  # the worker process itself died (BrokenProcessPool)
                    yield futures[future], traceback.format_exc()
