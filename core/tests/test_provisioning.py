"""Tenant schemas are cloned from a template that is always as migrated as the code."""

import re

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from appointments.models import Appointment
from tenancy import provisioning
from tenancy.models import Tenant

pytestmark = pytest.mark.django_db

SCHEMA_FACTS = {
    "tables": "SELECT table_name FROM information_schema.tables WHERE table_schema = %(s)s",
    "columns": (
        "SELECT table_name, column_name, data_type, is_nullable, is_identity, column_default "
        "FROM information_schema.columns WHERE table_schema = %(s)s"
    ),
    "constraints": (
        "SELECT conrelid::regclass::text, conname, contype, "
        "replace(pg_get_constraintdef(oid), %(s)s || '.', '') "
        "FROM pg_constraint WHERE connamespace = %(s)s::regnamespace"
    ),
    "indexes": (
        "SELECT tablename, indexname, replace(indexdef, %(s)s || '.', '') "
        "FROM pg_indexes WHERE schemaname = %(s)s"
    ),
    "migrations": "SELECT app, name FROM {schema}.django_migrations",
}


def _canonical(definition: str) -> str:
    """A definition without its casts and parentheses: PostgreSQL deparses some predicates
    differently once replayed (``ARRAY['A'::varchar]::text[]`` comes back as
    ``ARRAY['A'::varchar::text]``), the same index either way."""
    return re.sub(r"::[a-z ]+(\[\])?|[()]", "", definition)


def facts(schema: str) -> dict[str, set]:
    result = {}
    with connection.cursor() as cursor:
        for name, query in SCHEMA_FACTS.items():
            cursor.execute(query.format(schema=schema), {"s": schema})
            rows = {
                tuple(_canonical(str(v).replace(schema, "<schema>")) for v in row)
                for row in cursor.fetchall()
            }
            result[name] = rows
    return result


def test_cloned_schema_matches_a_migrated_one_name_for_name():
    provisioning.template_ensure()
    Tenant(name="Clone", schema_name="clone_check").save(verbosity=0)
    clone = facts("clone_check")
    template = facts(settings.TENANT_TEMPLATE_SCHEMA)
    assert clone == template
    assert clone["tables"] and clone["migrations"]


def test_cloned_schema_allocates_fresh_ids():
    Tenant(name="Clone", schema_name="clone_ids").save(verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM clone_ids.django_content_type")
        highest = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO clone_ids.django_content_type (app_label, model) "
            "VALUES ('x', 'y') RETURNING id"
        )
        assert cursor.fetchone()[0] == highest + 1


def _committed_elsewhere(statement: str) -> None:
    """Run ``statement`` as another process would: on its own connection, committed."""

    def run() -> None:
        with connection.cursor() as cursor:
            cursor.execute(statement)

    provisioning.on_own_connection(run)


def _committed_template_fingerprint() -> str | None:
    def read() -> str | None:
        with connection.cursor() as cursor:
            return provisioning._template_fingerprint(cursor, settings.TENANT_TEMPLATE_SCHEMA)

    return provisioning.on_own_connection(read)


def test_stale_template_is_rebuilt_before_cloning():
    _committed_elsewhere(f"COMMENT ON SCHEMA {settings.TENANT_TEMPLATE_SCHEMA} IS 'stale'")
    assert provisioning.template_ensure() is True
    assert provisioning.template_ensure() is False
    assert _committed_template_fingerprint() == provisioning.migrations_fingerprint()


def test_a_tenant_created_inside_a_transaction_builds_a_missing_template_of_its_own():
    _committed_elsewhere(f"DROP SCHEMA {settings.TENANT_TEMPLATE_SCHEMA} CASCADE")
    with transaction.atomic():
        tenant = Tenant.objects.create(name="Inside", schema_name="inside_atomic")
        with schema_context(tenant.schema_name):
            assert Appointment.objects.count() == 0
    assert connection.in_atomic_block  # the caller's (the test's) transaction is still open
    # The template was committed on its own connection: other processes clone it right away.
    assert _committed_template_fingerprint() == provisioning.migrations_fingerprint()


def test_create_tenant_command_builds_a_missing_template():
    _committed_elsewhere(f"DROP SCHEMA {settings.TENANT_TEMPLATE_SCHEMA} CASCADE")
    call_command(
        "create_tenant", schema_name="by_command", name="By Command",
        domain_domain="by-command.localhost", domain_is_primary=True, interactive=False,
        verbosity=0,
    )  # fmt: skip
    assert facts("by_command") == facts(settings.TENANT_TEMPLATE_SCHEMA)


def test_clone_refuses_a_template_with_objects_it_cannot_copy():
    with connection.cursor() as cursor:
        cursor.execute("CREATE SCHEMA odd_template")
        cursor.execute("CREATE VIEW odd_template.v AS SELECT 1 AS one")
    with pytest.raises(RuntimeError, match="view v"):
        provisioning.schema_clone(source="odd_template", target="odd_clone")


def test_provisioning_reads_the_template_definitions_from_the_catalog_once_per_fingerprint():
    Tenant(name="First", schema_name="clone_first").save(verbosity=0)
    with CaptureQueriesContext(connection) as queries:
        Tenant(name="Second", schema_name="clone_second").save(verbosity=0)
    catalog_reads = [
        q["sql"]
        for q in queries.captured_queries
        if any(t in q["sql"] for t in ("pg_constraint", "pg_index", "information_schema"))
    ]
    assert catalog_reads == []
    assert facts("clone_second") == facts(settings.TENANT_TEMPLATE_SCHEMA)
    with connection.cursor() as cursor:
        comment = provisioning._schema_comment(cursor, "clone_second")
    assert comment == provisioning.migrations_fingerprint()
