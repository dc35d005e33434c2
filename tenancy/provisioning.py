"""Fast tenant schemas: clone a migrated template instead of replaying every migration.

The danger of a template is staleness: cloned from an old template, a tenant would have migrations
recorded as applied whose tables it lacks. So the template carries a fingerprint of every migration
on disk (as its schema comment) and is rebuilt, under an advisory lock, whenever the fingerprint
differs: the first provisioning after a deploy with new migrations pays one migrate, later ones
clone.

The template is built on a connection of its own (a short-lived worker thread gets its own
``connections["default"]``), never on the caller's: django-tenants' migration executor commits and
closes the connection it migrates on whenever that connection is outside an atomic block, which
broke the seed's ``Tenant.objects.create(...)`` in an autocommit shell, and inside an atomic block
the template would only become visible (or be rolled back) with the caller's transaction. The
template depends on nothing but the code on disk, so it commits on its own, whatever the caller's
connection is doing: autocommit shell, ``atomic`` block, Celery task or ``create_tenant``. The
build is one transaction, so a tenant migration must not need to run outside one (no
``CREATE INDEX CONCURRENTLY``: a new schema has nothing to index concurrently anyway).

The clone copies tables with ``CREATE TABLE ... (LIKE ... INCLUDING ALL)`` (columns, identity,
defaults, CHECK, unique, exclusion constraints and indexes), then the rows (the migration records
and content types), then the foreign keys. django-tenants ships a general clone function too, but
it installs several thousand lines of PL/pgSQL on every call and takes about a second; tenant
schemas hold plain tables only, which ``_refuse_what_clone_cannot_copy`` makes sure of.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.core.management import call_command
from django.db import connections, transaction
from django.db.backends.utils import CursorWrapper
from django.db.migrations.loader import MigrationLoader
from django_tenants.utils import get_public_schema_name, get_tenant_model
from psycopg import sql

from core.db.connection import connection

# Any constant distinct from other advisory locks of this database.
_TEMPLATE_LOCK_KEY = 7_340_211_001
# A build waits this long for other processes' clones or builds to let go of the template; past
# it the caller gets an error rather than a worker hung on a lock its own transaction holds.
_TEMPLATE_LOCK_TIMEOUT = "60s"

T = TypeVar("T")


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


def on_own_connection(work: Callable[[], T]) -> T:
    """Run ``work`` on a database connection of its own, committed independently of (and never
    closing) the caller's, which is thread-local: a one-off thread gets a fresh one."""

    def run() -> T:
        try:
            return work()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="own-connection") as pool:
        return pool.submit(run).result()


def template_ensure(*, verbosity: int = 0) -> bool:
    """Make sure the template schema exists and matches the migrations on disk.

    Returns True when it had to be (re)built.
    """
    schema = settings.TENANT_TEMPLATE_SCHEMA
    wanted = migrations_fingerprint()
    with connection.cursor() as cursor:
        if _template_fingerprint(cursor, schema) == wanted:
            return False
    return on_own_connection(lambda: _template_build(schema, wanted, verbosity))


def _template_build(schema: str, wanted: str, verbosity: int) -> bool:
    # One transaction: other processes clone the old template or the complete new one, never a
    # half-built one, and django-tenants leaves a connection inside an atomic block open.
    name = sql.Identifier(schema)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(_TEMPLATE_LOCK_TIMEOUT))
            )
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_TEMPLATE_LOCK_KEY])
            if _template_fingerprint(cursor, schema) == wanted:  # built meanwhile elsewhere
                return False
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
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("COMMENT ON SCHEMA {} IS {}").format(name, sql.Literal(wanted)))
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


@dataclass(frozen=True)
class _ClonePlan:
    """What a clone of one fingerprinted source replays: read from the catalog once per process
    and fingerprint, since reading it costs more the more schemas the database holds."""

    tables: tuple[str, ...]
    tables_with_rows: tuple[str, ...]
    identity_columns: tuple[tuple[str, str], ...]  # (table, column) of tables_with_rows
    constraints: tuple[tuple[str, str, str], ...]  # (table, name, definition), foreign keys last
    indexes: tuple[tuple[str, str], ...]  # pg_get_indexdef split around " ON <source>."
    comment: str | None


_clone_plans: dict[tuple[str, str], _ClonePlan] = {}


def _schema_comment(cursor, schema: str) -> str | None:
    return _template_fingerprint(cursor, schema)


def _clone_plan_read(cursor: CursorWrapper, source: str, comment: str | None) -> _ClonePlan:
    _refuse_what_clone_cannot_copy(cursor, source)
    # Read every definition with only the source on the search path: source tables then come
    # out unqualified and resolve to the target's tables when replayed there.
    cursor.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(source)))
    tables = _source_tables(cursor, source)
    with_rows = _tables_with_rows(cursor, source, tables)
    return _ClonePlan(
        tables,
        with_rows,
        _identity_columns(cursor, source, with_rows),
        _source_constraints(cursor, source),
        _source_indexes(cursor, source),
        comment,
    )


def _source_tables(cursor: CursorWrapper, source: str) -> tuple[str, ...]:
    cursor.execute(
        "SELECT c.relname FROM pg_class c WHERE c.relnamespace = %s::regnamespace "
        "AND c.relkind IN ('r', 'p') ORDER BY c.relname",
        [source],
    )
    return tuple(row[0] for row in cursor.fetchall())


def _tables_with_rows(
    cursor: CursorWrapper, source: str, tables: tuple[str, ...]
) -> tuple[str, ...]:
    with_rows = []
    for table in tables:
        cursor.execute(
            sql.SQL("SELECT EXISTS (SELECT FROM {}.{})").format(
                sql.Identifier(source), sql.Identifier(table)
            )
        )
        if cursor.fetchone() == (True,):
            with_rows.append(table)
    return tuple(with_rows)


def _identity_columns(
    cursor: CursorWrapper, source: str, with_rows: tuple[str, ...]
) -> tuple[tuple[str, str], ...]:
    cursor.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = %s AND is_identity = 'YES' ORDER BY 1, 2",
        [source],
    )
    return tuple((t, c) for t, c in cursor.fetchall() if t in with_rows)


def _source_constraints(cursor: CursorWrapper, source: str) -> tuple[tuple[str, str, str], ...]:
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
        "FROM pg_constraint WHERE connamespace = %s::regnamespace "
        "AND contype IN ('p', 'u', 'x', 'f') ORDER BY contype = 'f', conname",
        [source],
    )
    return tuple(cursor.fetchall())


def _source_indexes(cursor: CursorWrapper, source: str) -> tuple[tuple[str, str], ...]:
    cursor.execute(
        "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE c.relnamespace = %s::regnamespace "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) "
        "ORDER BY 1",
        [source],
    )
    # pg_get_indexdef qualifies the table with its schema whatever the search path.
    return tuple(_split_index(row[0], source) for row in cursor.fetchall())


def _split_index(definition: str, source: str) -> tuple[str, str]:
    head, tail = definition.split(f" ON {source}.", 1)
    return head, tail


def _clone_plan(cursor, source: str) -> _ClonePlan:
    """The source's definitions, from the process's cache while the source carries the same
    migrations fingerprint (its schema comment); an unfingerprinted source is read every time."""
    comment = _schema_comment(cursor, source)
    if comment is None:
        return _clone_plan_read(cursor, source, comment)
    key = (source, comment)
    if key not in _clone_plans:
        _clone_plans[key] = _clone_plan_read(cursor, source, comment)
    return _clone_plans[key]


def _clone_script(plan: _ClonePlan, *, source: str, target: str) -> sql.Composed:
    dst = sql.Identifier(target)
    statements: list[sql.Composable] = [
        sql.SQL("CREATE SCHEMA {}").format(dst),
        sql.SQL("SET LOCAL search_path TO {}, public").format(dst),
        *_tables_create(plan, source=source, target=target),
        *_identities_reset(plan, target=target),
        *_constraints_add(plan),
        *(sql.SQL(f"{head} ON ") + dst + sql.SQL(f".{tail}") for head, tail in plan.indexes),
    ]
    if plan.comment is not None:
        statements.append(
            sql.SQL("COMMENT ON SCHEMA {} IS {}").format(dst, sql.Literal(plan.comment))
        )
    return sql.SQL(";\n").join(statements)


def _tables_create(plan: _ClonePlan, *, source: str, target: str) -> list[sql.Composable]:
    """Every table, then the rows of those that hold any."""
    src, dst = sql.Identifier(source), sql.Identifier(target)
    statements: list[sql.Composable] = []
    for table in plan.tables:
        t = sql.Identifier(table)
        statements.append(
            sql.SQL(
                "CREATE TABLE {}.{} (LIKE {}.{} INCLUDING DEFAULTS INCLUDING IDENTITY "
                "INCLUDING GENERATED INCLUDING CONSTRAINTS INCLUDING STORAGE)"
            ).format(dst, t, src, t)
        )
    for table in plan.tables_with_rows:
        t = sql.Identifier(table)
        statements.append(sql.SQL("INSERT INTO {}.{} SELECT * FROM {}.{}").format(dst, t, src, t))
    return statements


def _identities_reset(plan: _ClonePlan, *, target: str) -> list[sql.Composable]:
    """Identity sequences continue after the copied rows."""
    return [
        sql.SQL(
            "SELECT setval(pg_get_serial_sequence({qualified}, {column}), "
            "coalesce(max({c}), 0) + 1, false) FROM {d}.{t}"
        ).format(
            qualified=sql.Literal(f'"{target}"."{table}"'),
            column=sql.Literal(column),
            c=sql.Identifier(column),
            d=sql.Identifier(target),
            t=sql.Identifier(table),
        )
        for table, column in plan.identity_columns
    ]


def _constraints_add(plan: _ClonePlan) -> list[sql.Composable]:
    return [
        sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(
            sql.Identifier(table), sql.Identifier(name)
        )
        + sql.SQL(definition)
        for table, name, definition in plan.constraints
    ]


def schema_clone(*, source: str, target: str) -> None:
    """Create schema ``target`` as a copy of ``source``: tables, rows, constraints and indexes, all
    under their original names (later migrations find constraints by name), and the source's
    migrations fingerprint. All or nothing: one transaction (a savepoint inside the caller's), its
    search path local to it, the whole copy sent as one script."""
    with transaction.atomic(), connection.cursor() as cursor:
        plan = _clone_plan(cursor, source)
        cursor.execute(_clone_script(plan, source=source, target=target))
    connection.set_schema_to_public()


def tenant_schemas_behind(*, fingerprint: str) -> tuple[int, list[str]]:
    """How many tenant schemas there are, and those whose migrations fingerprint (schema comment)
    is not ``fingerprint``: missing, stale, or never stamped. One query, whatever the count."""
    tenant_table = get_tenant_model()._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL(
                """
                SELECT count(*),
                       coalesce(array_agg(t.schema_name ORDER BY t.schema_name)
                                FILTER (WHERE d.description IS DISTINCT FROM %(fingerprint)s),
                                '{{}}')
                  FROM {tenants} t
                  LEFT JOIN pg_namespace n ON n.nspname = t.schema_name
                  LEFT JOIN pg_description d ON d.objoid = n.oid
                       AND d.classoid = 'pg_namespace'::regclass AND d.objsubid = 0
                 WHERE t.schema_name <> %(public)s
                """
            ).format(tenants=sql.Identifier(tenant_table)),
            {"fingerprint": fingerprint, "public": get_public_schema_name()},
        )
        total, behind = cursor.fetchone()
    return total, list(behind)


def schema_stamp(*, schema: str) -> bool:
    """Record on ``schema`` the migrations fingerprint when every migration on disk is applied in
    it, or clear it when not (a partial or backwards migrate). Returns whether it is up to date."""
    graph = _migration_graph()
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("SELECT app, name FROM {}.django_migrations").format(sql.Identifier(schema))
        )
        applied = set(cursor.fetchall())
        current = graph <= applied
        comment = migrations_fingerprint() if current else None
        cursor.execute(
            sql.SQL("COMMENT ON SCHEMA {} IS {}").format(
                sql.Identifier(schema), sql.Literal(comment)
            )
        )
    return current


@functools.cache
def _migration_graph() -> frozenset[tuple[str, str]]:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return frozenset(loader.graph.nodes)
