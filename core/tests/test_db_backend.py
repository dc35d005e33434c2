"""The database backend (core.db): each transaction carries its tenant's search path, no server
connection keeps one, and the settings check refuses configurations that leak through a pooler.

Most scenarios need a connection in autocommit mode, which the test's own connection (inside the
test's transaction) is not: they run on a fresh connection in a thread of their own.
"""

from __future__ import annotations

import psycopg
import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.wsgi import WSGIHandler
from django.db import DatabaseError, NotSupportedError, transaction
from django.db.utils import load_backend
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from catalog.models import Service
from conftest import bearer, connection
from core.db.checks import pooling_problems
from core.db.cursors import SessionSearchPathError, UnpinnableStatementError
from core.tests.pooler import Site, get, in_own_thread, wire_messages
from users.tests.factories import UserFactory

PIN = "SELECT pg_catalog.set_config('search_path', "


def _current_schema() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        return cursor.fetchone()[0]


def _session_search_path() -> str:
    """The server connection's own search path, read without a pin."""
    with psycopg.ClientCursor(connection.connection) as cursor:
        cursor.execute("SHOW search_path")
        row = cursor.fetchone()
        assert row is not None
        return row[0]


def test_each_autocommit_statement_reads_the_selected_tenant(db):
    def scenario() -> list[str]:
        seen = []
        for schema in ("alpha", "beta", "public", "alpha"):
            connection.set_schema(schema)
            seen.append(_current_schema())
        return seen

    assert in_own_thread(scenario) == ["alpha", "beta", "public", "alpha"]


def test_no_search_path_is_left_on_the_server_connection(db):
    def scenario() -> tuple[str, str]:
        connection.ensure_connection()
        default = _session_search_path()
        connection.set_schema("alpha")
        list(Service.objects.all())
        with transaction.atomic():
            list(Service.objects.all())
        return default, _session_search_path()

    default, after = in_own_thread(scenario)
    assert "alpha" not in after
    assert after == default


def test_a_transaction_pins_its_search_path_once_with_its_first_statement(db):
    def scenario() -> list[str]:
        connection.set_schema("alpha")
        with CaptureQueriesContext(connection) as queries, transaction.atomic():
            for _ in range(3):
                list(Service.objects.all())
        return [query["sql"] for query in queries.captured_queries]

    statements = [s for s in in_own_thread(scenario) if s not in ("BEGIN", "COMMIT")]
    assert len(statements) == 3
    assert statements[0].startswith(PIN + '\'"alpha", "public"\', true);SELECT')
    assert not any(statement.startswith(PIN) for statement in statements[1:])


def test_switching_tenant_inside_a_transaction_pins_the_new_one(db):
    def scenario() -> list[str]:
        with transaction.atomic():
            connection.set_schema("alpha")
            first = _current_schema()
            connection.set_schema("beta")
            return [first, _current_schema()]

    assert in_own_thread(scenario) == ["alpha", "beta"]


def test_selecting_a_tenant_again_overrides_a_set_local_made_meanwhile(db):
    """Provisioning reads and writes under its own ``SET LOCAL search_path``, then selects the
    public schema again: the statements after that must not stay in the clone's schema."""

    def scenario() -> list[str]:
        with transaction.atomic(), connection.cursor() as cursor:
            connection.set_schema("alpha")
            first = _current_schema()
            cursor.execute("SET LOCAL search_path TO beta")
            during = _current_schema()
            connection.set_schema("alpha")
            return [first, during, _current_schema()]

    assert in_own_thread(scenario) == ["alpha", "beta", "alpha"]


def test_rolling_back_to_a_savepoint_that_undid_the_pin_pins_again(db):
    def scenario() -> str:
        with transaction.atomic():
            _current_schema()  # pins public
            try:
                with transaction.atomic():
                    connection.set_schema("alpha")
                    _current_schema()  # pins alpha after the savepoint
                    raise RuntimeError("undo the savepoint")
            except RuntimeError:
                pass
            return _current_schema()  # still alpha: the rollback undid the pin, not the choice

    assert in_own_thread(scenario) == "alpha"


def test_a_statement_failing_inside_a_savepoint_rolls_back_to_it(db):
    def scenario() -> str:
        with transaction.atomic():
            connection.set_schema("alpha")
            _current_schema()
            with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT 1 / 0")
            return _current_schema()

    assert in_own_thread(scenario) == "alpha"


def test_a_session_level_set_search_path_is_refused(db):
    def scenario() -> str:
        with pytest.raises(DatabaseError) as refused, connection.cursor() as cursor:
            cursor.execute("SET search_path TO alpha")
        assert isinstance(refused.value.__cause__, SessionSearchPathError)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL search_path TO beta")
            cursor.execute("SELECT current_schema()")
            return cursor.fetchone()[0]

    assert in_own_thread(scenario) == "beta"


def test_server_side_cursors_are_refused_and_iterator_reads_client_side(db):
    def scenario() -> list[str]:
        with pytest.raises(NotSupportedError):
            connection.chunked_cursor()
        with pytest.raises(NotSupportedError):
            connection.connection.cursor("named")
        with schema_context("alpha"):
            return [service.name for service in Service.objects.iterator()]

    assert in_own_thread(scenario) == []


def test_copy_needs_a_transaction_to_carry_its_search_path(db):
    def scenario() -> list[str]:
        connection.set_schema("alpha")
        with connection.cursor() as cursor, pytest.raises(UnpinnableStatementError):
            cursor.copy("COPY (SELECT current_schema()) TO STDOUT")
        with (
            transaction.atomic(),
            connection.cursor() as cursor,
            cursor.copy("COPY (SELECT current_schema()) TO STDOUT") as copy,
        ):
            return [row[0] for row in copy.rows()]

    assert in_own_thread(scenario) == ["alpha"]


def test_executemany_runs_in_the_selected_tenant(db):
    def scenario() -> list[str]:
        connection.set_schema("beta")
        connection.ensure_connection()
        with connection.connection.cursor() as cursor:
            cursor.executemany("SELECT current_schema(), %s", [(1,), (2,)], returning=True)
            schemas = [cursor.fetchone()[0]]
            while cursor.nextset():
                schemas.append(cursor.fetchone()[0])
        return schemas

    assert in_own_thread(scenario) == ["beta", "beta"]


def test_introspection_sees_only_the_current_schema(db):
    def scenario() -> tuple[list[str], str]:
        connection.set_schema("alpha")
        tables = connection.introspection.table_names()
        return tables, _current_schema()

    tables, schema_after = in_own_thread(scenario)
    assert "catalog_service" in tables
    assert "core_tenant" not in tables
    assert schema_after == "alpha"


@pytest.mark.parametrize("option", ["server_side_binding", "pool"])
def test_options_the_backend_cannot_pin_through_are_refused(option):
    wrapper = load_backend("core.db").DatabaseWrapper(
        {**connection.settings_dict, "OPTIONS": {option: True}}, "other"
    )
    with pytest.raises(ImproperlyConfigured):
        wrapper.get_connection_params()


def test_a_tenant_request_pins_every_statement_without_a_round_trip_of_its_own(db, tenant_a):
    """The figures of the README: django-tenants sent ``SET search_path`` as a round trip of its
    own before each query (tenant ``/api/me/``: 7 round trips, 3 of them SET); here each
    statement carries its pin and the request costs one round trip per statement."""

    def scenario() -> list[str]:
        owner = UserFactory.create(role="TENANT_OWNER", tenant=tenant_a, email="pins@alpha")
        site = Site("alpha", "alpha.localhost", bearer(owner, "alpha"))
        handler = WSGIHandler()
        try:
            get(handler, site, "/api/me/")
            with wire_messages(connection) as messages:
                status, _ = get(handler, site, "/api/me/")
            assert status.startswith("200")
            return messages
        finally:
            owner.delete()

    messages = in_own_thread(scenario)
    sent = [message for message in messages if message.startswith("F ")]
    round_trips = [message for message in messages if message.startswith("B ReadyForQuery")]
    assert sent, "the request sent nothing"
    assert all(message.startswith('F Query "' + PIN) for message in sent), sent
    assert len(round_trips) == len(sent)
    assert not any("SET search_path" in message for message in messages)


def test_the_shipped_settings_are_safe_in_every_pool_mode():
    for mode in ("none", "session", "transaction"):
        assert pooling_problems(settings.DATABASES, mode) == []


def _ids(databases: dict, mode: str) -> list[str | None]:
    return [error.id for error in pooling_problems(databases, mode)]


def test_the_pooling_check_refuses_configurations_that_leak():
    shipped = settings.DATABASES["default"]
    tenants_backend = {**shipped, "ENGINE": "django_tenants.postgresql_backend"}
    assert _ids({"default": tenants_backend}, "none") == []
    assert _ids({"default": tenants_backend}, "transaction") == ["core.E102"]
    cursors = {**shipped, "DISABLE_SERVER_SIDE_CURSORS": False}
    assert _ids({"default": cursors}, "none") == ["core.E103"]
    prepared = {**shipped, "OPTIONS": {"prepare_threshold": 5}}
    assert _ids({"default": prepared}, "session") == []
    assert _ids({"default": prepared}, "transaction") == ["core.E104"]
    role = {**shipped, "OPTIONS": {"assume_role": "app"}}
    assert _ids({"default": role}, "transaction") == ["core.E105"]
    startup = {**shipped, "OPTIONS": {"options": "-c search_path=alpha"}}
    assert _ids({"default": startup}, "transaction") == ["core.E105"]
    assert _ids({"default": shipped}, "statement") == ["core.E101"]
