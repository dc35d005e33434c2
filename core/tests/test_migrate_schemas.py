"""``migrate_schemas`` migrates only the tenant schemas whose migrations fingerprint is behind the
code, in parallel worker processes, each failure isolated and reported with a non-zero exit."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_tenants.signals import schema_pre_migration
from psycopg import sql

from conftest import connection
from tenancy import provisioning
from tenancy.models import Tenant

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ("mig_current", "mig_behind", "mig_broken")


@pytest.fixture
def tenants() -> Iterator[list[str]]:
    for schema in SCHEMAS:
        Tenant(name=schema, schema_name=schema).save(verbosity=0)
    yield list(SCHEMAS)
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        for schema in SCHEMAS:
            cursor.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
            )


def _comment(schema: str) -> str | None:
    with connection.cursor() as cursor:
        return provisioning._schema_comment(cursor, schema)


def _has_photo_column(schema: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT FROM pg_attribute WHERE attrelid = %s::regclass "
            "AND attname = 'photo' AND NOT attisdropped)",
            [f"{schema}.resources_resource"],
        )
        return cursor.fetchone()[0]


def _migrate_all(**options) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("migrate_schemas", stdout=out, stderr=err, processes=2, **options)
    finally:
        connection.set_schema_to_public()
    return out.getvalue(), err.getvalue()


def test_a_new_tenant_carries_the_migrations_fingerprint(tenants):
    for schema in tenants:
        assert _comment(schema) == provisioning.migrations_fingerprint()


def test_migrate_over_up_to_date_tenants_touches_none_of_them(tenants):
    touched = []

    def record(sender, schema_name, **kwargs):
        touched.append(schema_name)

    schema_pre_migration.connect(record)
    try:
        out, _ = _migrate_all()
    finally:
        schema_pre_migration.disconnect(record)
    assert [s for s in touched if s != "public"] == []
    assert "behind the migrations on disk: 0." in out


def test_only_the_tenant_behind_is_migrated_and_a_failing_one_is_isolated(tenants):
    for schema in ("mig_behind", "mig_broken"):
        call_command(
            "migrate_schemas", "resources", "0001_initial", schema_name=schema,
            interactive=False, verbosity=0,
        )  # fmt: skip
        assert _comment(schema) is None  # a backwards migrate leaves the schema unstamped
        assert not _has_photo_column(schema)
    with connection.cursor() as cursor:  # drift: the column the forward migration adds exists
        cursor.execute(
            "ALTER TABLE mig_broken.resources_resource ADD COLUMN photo varchar(255) DEFAULT ''"
        )

    with pytest.raises(CommandError, match=r"1 of 2 tenant schemas failed to migrate: mig_broken$"):
        _migrate_all(tenant=True)

    assert _has_photo_column("mig_behind")
    assert _comment("mig_behind") == provisioning.migrations_fingerprint()
    assert _comment("mig_broken") is None  # still behind: the next run tries it again
    assert _comment("mig_current") == provisioning.migrations_fingerprint()


def test_the_summary_names_the_failure_and_the_cli_exits_non_zero(tenants):
    with connection.cursor() as cursor:
        cursor.execute("COMMENT ON SCHEMA mig_broken IS NULL")
        # Recorded as never applied, although its tables exist: re-creating them fails.
        cursor.execute("DELETE FROM mig_broken.django_migrations WHERE app = 'billing'")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError):
        call_command("migrate_schemas", tenant=True, stdout=out, stderr=err, processes=2)
    connection.set_schema_to_public()
    assert "behind the migrations on disk: 1." in out.getvalue()
    assert "Migrated 0 of 1 tenant schemas behind." in out.getvalue()
    assert "FAILED mig_broken: " in err.getvalue()
    assert "already exists" in err.getvalue()

    env = {**os.environ, "POSTGRES_DB": connection.settings_dict["NAME"]}
    env |= {"DJANGO_SETTINGS_MODULE": "config.settings.test"}
    done = subprocess.run(
        [sys.executable, "manage.py", "migrate_schemas", "--tenant", "--processes=2"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr[-2000:]
    assert "FAILED mig_broken: " in done.stderr
