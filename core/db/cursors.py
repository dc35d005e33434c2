"""Cursors that carry the tenant's search path into every transaction they run in.

django-tenants selects a tenant with a session-level ``SET search_path`` issued before the
queries. Behind a pooler in transaction mode (PgBouncer) each transaction may run on another
server connection, so the ``SET`` and the query can land on different ones: the query then reads
whichever schema that server connection was last set to, another tenant's included.

Here the search path belongs to the transaction instead. The first statement of each transaction
goes out as ``SELECT set_config('search_path', <path>, true);<statement>`` -- one simple-protocol
message, which PostgreSQL runs as one transaction, and the setting is local to it (gone at its
end). It costs no round trip of its own: in autocommit mode every statement is such a
transaction; inside ``transaction.atomic`` the pin holds until COMMIT or ROLLBACK and the later
statements go out alone. A server connection is never left with a search path of ours, and no
statement runs without its own. A session-level ``SET search_path`` is refused outright.

``executemany`` sends the pin in the same pipeline as its statements instead (one Sync, so one
transaction); COPY and streamed queries cannot join either, so they need ``transaction.atomic``;
server-side cursors are refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, NoReturn

import psycopg
from django.db import NotSupportedError
from django.db.backends.postgresql.base import Cursor
from psycopg import pq, sql

_PIN = "SELECT pg_catalog.set_config('search_path', {}, true);"
_SESSION_SEARCH_PATH = re.compile(r"\s*SET\s+(SESSION\s+)?search_path\b", re.IGNORECASE)
_IN_TRANSACTION = pq.TransactionStatus.INTRANS
_FAILED_TRANSACTION = pq.TransactionStatus.INERROR


class SessionSearchPathError(psycopg.ProgrammingError):
    """A ``SET search_path`` outliving its transaction: behind a transaction pooler it would stay
    on a server connection that other clients use next."""


class UnpinnableStatementError(psycopg.ProgrammingError):
    """A statement that cannot travel with its search path outside an explicit transaction."""


@dataclass
class SearchPath:
    """The search path a Django connection selected, and the one its open transaction pinned.

    One per Django connection, shared with its psycopg connection (``tenant_search_path``).
    """

    selected: str
    pinned: str | None = None
    pin: str = field(init=False)
    # Every search path pinned on the current server connection: each schema a connection reads
    # keeps its catalog entries cached in that backend until it closes.
    touched: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.select(self.selected)

    def select(self, path: str) -> None:
        # Forget the pin even when the path is the same: code between two selections may have
        # run its own ``SET LOCAL search_path``; the next statement puts ours back.
        self.selected = path
        self.pinned = None
        self.pin = _PIN.format(sql.quote(path))


def refuse_server_cursor() -> NoReturn:
    """Server-side (named) cursors are off. psycopg declares one with a statement of its own,
    which no pin can join, and in autocommit mode it is a WITH HOLD cursor living on the server
    connection, which a transaction pooler hands to other clients."""
    raise NotSupportedError(
        "Server-side cursors are off (DISABLE_SERVER_SIDE_CURSORS = True): their declaration "
        "cannot carry the tenant's search path."
    )


class RefusedServerCursor(psycopg.ServerCursor):
    """psycopg's ``connection.cursor(name)``, refused."""

    def __new__(cls, *args: Any, **kwargs: Any) -> RefusedServerCursor:
        refuse_server_cursor()  # before the object exists: nothing half-built to clean up


class PinningCursor(Cursor, psycopg.ClientCursor[Any]):
    """Django's cursor (client-side parameter binding) sending each transaction's first
    statement together with the pin of its search path. (Django's ``Cursor`` already is a
    ``psycopg.ClientCursor``; django-stubs declare it without that base, so it is named again.)"""

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        search_path = self._search_path_to_pin(query)
        if search_path is None:
            super().execute(query, params, **kwargs)
        else:
            statement = self.mogrify(query, params)
            try:
                super().execute(search_path.pin + statement, **kwargs)
            finally:
                self._pinned(search_path)
            self.nextset()  # the statement's own result, after the pin's
        if self.statusmessage == "ROLLBACK":  # ROLLBACK TO SAVEPOINT may undo a pin after it
            self.connection.tenant_search_path.pinned = None  # type: ignore[attr-defined]
        return self

    def executemany(self, query: Any, params_seq: Any, **kwargs: Any) -> None:
        search_path = self._search_path_to_pin(query)
        if search_path is None:
            super().executemany(query, params_seq, **kwargs)
            return
        try:
            with self.connection.pipeline():
                psycopg.Cursor(self.connection).execute(search_path.pin)
                super().executemany(query, params_seq, **kwargs)
        finally:
            self._pinned(search_path)

    def copy(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        self._pin_on_its_own(statement)
        return super().copy(statement, *args, **kwargs)

    def stream(self, query: Any, *args: Any, **kwargs: Any) -> Any:
        self._pin_on_its_own(query)
        return super().stream(query, *args, **kwargs)

    def _search_path_to_pin(self, query: Any) -> SearchPath | None:
        self._refuse_session_search_path(query)
        search_path: SearchPath = self.connection.tenant_search_path  # type: ignore[attr-defined]
        status = self.connection.pgconn.transaction_status
        if status == _FAILED_TRANSACTION:
            return None  # only a rollback runs now: it reads no table, and a pin would fail
        if status != _IN_TRANSACTION:
            search_path.pinned = None  # this statement starts a transaction (implicit or not)
        return None if search_path.pinned == search_path.selected else search_path

    def _pinned(self, search_path: SearchPath) -> None:
        search_path.touched.add(search_path.selected)
        in_transaction = self.connection.pgconn.transaction_status == _IN_TRANSACTION
        search_path.pinned = search_path.selected if in_transaction else None

    def _pin_on_its_own(self, query: Any) -> None:
        search_path = self._search_path_to_pin(query)
        if search_path is None:
            return
        if self.connection.autocommit:
            raise UnpinnableStatementError(
                "COPY and streamed queries cannot carry their tenant's search path in autocommit "
                "mode; run them inside transaction.atomic()."
            )
        psycopg.Cursor(self.connection).execute(search_path.pin)
        self._pinned(search_path)

    def _refuse_session_search_path(self, query: Any) -> None:
        if isinstance(query, sql.Composable):
            query = query.as_string(self.connection)
        elif isinstance(query, bytes):
            query = query.decode(errors="replace")
        if isinstance(query, str) and _SESSION_SEARCH_PATH.match(query):
            raise SessionSearchPathError(
                "A session-level SET search_path outlives its transaction. Select the schema "
                "with connection.set_schema() / django_tenants.utils.schema_context(), or use "
                "SET LOCAL inside transaction.atomic()."
            )
