"""Fast tenant schemas: clone a migrated template instead of replaying every migration.

The danger of a template is staleness: cloned from an old template, a tenant would have migrations
recorded as applied whose tables it lacks. So the template carries a fingerprint of every migration
on disk (as its schema comment) and is rebuilt, under an advisory lock, whenever the fingerprint
differs: the first provisioning after a deploy with new migrations pays one migrate, later ones
clone.

The clone copies tables with ``CREATE TABLE ... (LIKE ... INCLUDING ALL)`` (columns, identity,
defaults, CHECK, unique, exclusion constraints and indexes), then the rows (the migration records
and content types), then the foreign keys. django-tenants ships a general clone function too, but
it installs several thousand lines of PL/pgSQL on every call and takes about a second; tenant
schemas hold plain tables only, which ``_refuse_what_clone_cannot_copy`` makes sure of.
"""

from __future__ import annotations

import functools
import hashlib

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from psycopg import sql

# Any constant distinct from other advisory locks of this database.
_TEMPLATE_LOCK_KEY = 7_340_211_001


@functools.cache
def migrations_fingerprint() -> str:
    """A digest of every migration on disk; constant for the life of the process."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    names = sorted(f"{app}.{name}" for app, name in loader.disk_migrations)
    return hashlib.sha256("\n".join(names).encode()).hexdigest()[:32]


def _template_fingerprint(cursor, schema: str) -> str | None:
    cursor.execute(
        "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = %s",
        [schema],
    )
    row = cursor.fetchone()
    return row[0] if row else None


def template_ensure(*, verbosity: int = 0) -> bool:
    """Make sure the template schema exists and matches the migrations on disk.

    Returns True when it had to be (re)built.
    """
    schema = settings.TENANT_TEMPLATE_SCHEMA
    wanted = migrations_fingerprint()
    with connection.cursor() as cursor:
        if _template_fingerprint(cursor, schema) == wanted:
            return False
        cursor.execute("SELECT pg_advisory_lock(%s)", [_TEMPLATE_LOCK_KEY])
        try:
            if (
                _template_fingerprint(cursor, schema) == wanted
            ):  # built meanwhile by another process
                return False
            name = sql.Identifier(schema)
            cursor.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(name))
            cursor.execute(sql.SQL("CREATE SCHEMA {}").format(name))
            call_command(
                "migrate_schemas",
                tenant=True,
                schema_name=schema,
                interactive=False,
                verbosity=verbosity,
            )
            connection.set_schema_to_public()
            cursor.execute(sql.SQL("COMMENT ON SCHEMA {} IS {}").format(name, sql.Literal(wanted)))
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_TEMPLATE_LOCK_KEY])
    return True


def _refuse_what_clone_cannot_copy(cursor, source: str) -> None:
    cursor.execute(
        """
        SELECT 'view ' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = %(s)s AND c.relkind IN ('v', 'm')
        UNION ALL
        SELECT 'function ' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname = %(s)s
        UNION ALL
        SELECT 'sequence default on ' || table_name || '.' || column_name
          FROM information_schema.columns
         WHERE table_schema = %(s)s AND column_default LIKE 'nextval(%%'
        """,
        {"s": source},
    )
    if found := [row[0] for row in cursor.fetchall()]:
        raise RuntimeError(f"Tenant template holds objects the clone does not copy: {found}")


def schema_clone(*, source: str, target: str) -> None:
    """Create schema ``target`` as a copy of ``source``: tables, rows, constraints and indexes, all
    under their original names (later migrations find constraints by name). All or nothing: one
    transaction (a savepoint inside the caller's), its search path local to it."""
    src, dst = sql.Identifier(source), sql.Identifier(target)
    with transaction.atomic(), connection.cursor() as cursor:
        _refuse_what_clone_cannot_copy(cursor, source)
        # Read every definition with only the source on the search path: source tables then come
        # out unqualified and resolve to the target's tables when replayed there.
        cursor.execute(sql.SQL("SET LOCAL search_path TO {}").format(src))
        cursor.execute(
            "SELECT c.relname FROM pg_class c WHERE c.relnamespace = %s::regnamespace "
            "AND c.relkind IN ('r', 'p') ORDER BY c.relname",
            [source],
        )
        tables = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype "
            "FROM pg_constraint WHERE connamespace = %s::regnamespace "
            "AND contype IN ('p', 'u', 'x', 'f') ORDER BY contype = 'f', conname",
            [source],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relnamespace = %s::regnamespace "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
            [source],
        )
        # pg_get_indexdef qualifies the table with its schema whatever the search path.
        indexes = [
            row[0].replace(f" ON {source}.", f" ON {target}.", 1) for row in cursor.fetchall()
        ]

        cursor.execute(sql.SQL("CREATE SCHEMA {}").format(dst))
        cursor.execute(sql.SQL("SET LOCAL search_path TO {}, public").format(dst))
        for table in tables:
            t = sql.Identifier(table)
            cursor.execute(
                sql.SQL(
                    "CREATE TABLE {}.{} (LIKE {}.{} INCLUDING DEFAULTS INCLUDING IDENTITY "
                    "INCLUDING GENERATED INCLUDING CONSTRAINTS INCLUDING STORAGE)"
                ).format(dst, t, src, t)
            )
            cursor.execute(sql.SQL("INSERT INTO {}.{} SELECT * FROM {}.{}").format(dst, t, src, t))
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = %s AND is_identity = 'YES'",
            [target],
        )
        for table, column in cursor.fetchall():
            cursor.execute(
                sql.SQL(
                    "SELECT setval(pg_get_serial_sequence({qualified}, {column}), "
                    "coalesce(max({c}), 0) + 1, false) FROM {t}"
                ).format(
                    qualified=sql.Literal(f'"{target}"."{table}"'),
                    column=sql.Literal(column),
                    c=sql.Identifier(column),
                    t=sql.Identifier(table),
                )
            )
        for table, name, definition, _kind in constraints:
            cursor.execute(
                sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(
                    sql.Identifier(table), sql.Identifier(name)
                )
                + sql.SQL(definition)
            )
        for definition in indexes:
            cursor.execute(sql.SQL(definition))
    connection.set_schema_to_public()
