"""django-tenants' PostgreSQL backend with the tenant's search path pinned per transaction.

``connection.set_tenant()``, ``set_schema()``, ``schema_context()`` and ``tenant_context()`` work
as they always did; they only record which search path the connection wants. The cursors
(``core.db.cursors``) send it inside every transaction instead of once per session, so the
backend is safe with no pooler, PgBouncer in session mode and PgBouncer in transaction mode
alike.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.backends.base.base import NO_DB_ALIAS
from django_tenants.postgresql_backend import base as tenants
from django_tenants.utils import quote_schema_name

from core.db.cursors import (
    PinningCursor,
    RefusedServerCursor,
    SearchPath,
    refuse_server_cursor,
)
from core.db.introspection import SchemaIntrospection


class DatabaseWrapper(tenants.DatabaseWrapper):
    """django-tenants' wrapper whose tenant selection only records the search path to pin."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # django-tenants' constructor selects the public schema through set_tenant().
        self.tenant_search_path = SearchPath(selected="")
        super().__init__(*args, **kwargs)
        self.introspection = SchemaIntrospection(self)

    def set_tenant(self, tenant: Any, include_public: bool = True) -> None:
        super().set_tenant(tenant, include_public)
        paths = self._get_cursor_search_paths()  # validates every schema name
        self.tenant_search_path.select(", ".join(quote_schema_name(p) for p in paths))

    def _handle_search_path(self, cursor: Any = None) -> None:
        """Never a session-level ``SET search_path``: the cursors pin it per transaction."""

    def get_connection_params(self) -> dict[str, Any]:
        params = super().get_connection_params()
        # The maintenance database holds no tenant schemas, and CREATE/DROP DATABASE may not
        # share a message with a pin: its connection keeps Django's own cursor.
        if self.alias != NO_DB_ALIAS:
            options = self.settings_dict["OPTIONS"]
            if options.get("server_side_binding"):
                # The pin shares a simple-protocol message with the statement, which cannot
                # carry separate parameters.
                raise ImproperlyConfigured(
                    "core.db binds parameters client-side: remove OPTIONS['server_side_binding']."
                )
            if options.get("pool"):
                # psycopg's pool runs Django's connection setup before the connection is ours.
                raise ImproperlyConfigured(
                    "core.db does not use Django's connection pool: remove OPTIONS['pool'] "
                    "(pool with PgBouncer, see DATABASE_POOL_MODE)."
                )
            params["cursor_factory"] = PinningCursor
        return params

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        connection = super().get_new_connection(conn_params)
        self.tenant_search_path.pinned = None
        self.tenant_search_path.touched.clear()
        connection.tenant_search_path = self.tenant_search_path
        if self.alias != NO_DB_ALIAS:
            connection.server_cursor_factory = RefusedServerCursor
        return connection

    def close_if_unusable_or_obsolete(self) -> None:
        """Django's recycling between requests and tasks, plus: close a connection that has
        touched ``DATABASE_MAX_SCHEMAS_PER_CONNECTION`` search paths. PostgreSQL keeps the catalog
        entries of every schema a backend has read (about 200 KB per tenant schema) until the
        backend exits, so a long-lived connection serving every tenant would grow without bound."""
        super().close_if_unusable_or_obsolete()
        limit = getattr(settings, "DATABASE_MAX_SCHEMAS_PER_CONNECTION", 0)
        if (
            limit
            and self.connection is not None
            and not self.in_atomic_block
            and len(self.tenant_search_path.touched) >= limit
        ):
            self.close()

    def create_cursor(self, name: str | None = None) -> Any:
        if name:
            # Django builds its server-side cursor itself, past psycopg's server_cursor_factory.
            # DISABLE_SERVER_SIDE_CURSORS keeps the ORM from asking.
            refuse_server_cursor()
        return super().create_cursor()
