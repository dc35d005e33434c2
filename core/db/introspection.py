"""Introspection of the connection's current schema only, as django-tenants does it, with the
narrowed search path pinned like any other (django-tenants switches it with session-level
``SET search_path`` statements)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol, cast

from django.db.backends.postgresql.introspection import DatabaseIntrospection
from django_tenants.utils import quote_schema_name

from core.db.cursors import SearchPath


class _SchemaConnection(Protocol):
    """What ``core.db.base.DatabaseWrapper`` (which builds this introspection) adds."""

    tenant_search_path: SearchPath
    schema_name: str


class SchemaIntrospection(DatabaseIntrospection):
    """Tables, columns, sequences, keys and constraints of ``connection.schema_name`` alone:
    migrating a tenant must not see the public schema's tables as its own."""

    @contextmanager
    def _current_schema_only(self) -> Iterator[None]:
        connection = cast(_SchemaConnection, self.connection)
        search_path = connection.tenant_search_path
        previous = search_path.selected
        search_path.select(quote_schema_name(connection.schema_name))
        try:
            yield
        finally:
            search_path.select(previous)

    def get_table_list(self, cursor: Any) -> Any:
        with self._current_schema_only():
            return super().get_table_list(cursor)

    def get_table_description(self, cursor: Any, table_name: str) -> Any:
        with self._current_schema_only():
            return super().get_table_description(cursor, table_name)

    def get_sequences(self, cursor: Any, table_name: str, table_fields: Any = ()) -> Any:
        with self._current_schema_only():
            return super().get_sequences(cursor, table_name, table_fields)

    def get_constraints(self, cursor: Any, table_name: str) -> Any:
        with self._current_schema_only():
            return super().get_constraints(cursor, table_name)
