"""Startup check: refuse database settings known to leak tenants or session state through a
connection pooler.

``DATABASE_POOL_MODE`` declares what sits between Django and PostgreSQL: ``none`` (direct),
``session`` (PgBouncer ``pool_mode = session``: a server connection per client connection, as
direct) or ``transaction`` (PgBouncer ``pool_mode = transaction``: consecutive transactions of one
client may run on different server connections, whose session state other clients inherit).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register
from django.db.utils import load_backend

from core.db.base import DatabaseWrapper as PinningDatabaseWrapper

POOL_MODES = ("none", "session", "transaction")


def pooling_problems(databases: dict[str, dict[str, Any]], pool_mode: str) -> list[Error]:
    """What in ``databases`` would be unsafe behind a pooler in ``pool_mode``."""
    if pool_mode not in POOL_MODES:
        return [
            Error(
                f"DATABASE_POOL_MODE is {pool_mode!r}.",
                hint=f"Use one of {', '.join(POOL_MODES)}.",
                id="core.E101",
            )
        ]
    errors = []
    for alias, database in databases.items():
        pins = issubclass(load_backend(database["ENGINE"]).DatabaseWrapper, PinningDatabaseWrapper)
        options = database.get("OPTIONS", {})
        transaction_pooled = pool_mode == "transaction"
        if transaction_pooled and not pins:
            errors.append(
                Error(
                    f"DATABASES[{alias!r}] uses {database['ENGINE']}, which selects the tenant "
                    "with a session-level SET search_path: behind a transaction pooler queries "
                    "run on server connections set to other tenants' schemas.",
                    hint="Use ENGINE 'core.db' (config/database.py does).",
                    id="core.E102",
                )
            )
        if (pins or transaction_pooled) and not database.get("DISABLE_SERVER_SIDE_CURSORS"):
            errors.append(
                Error(
                    f"DATABASES[{alias!r}] allows server-side cursors: outside a transaction they "
                    "are WITH HOLD cursors that live on the server connection, where no "
                    "per-transaction search path reaches them.",
                    hint="Set DISABLE_SERVER_SIDE_CURSORS = True.",
                    id="core.E103",
                )
            )
        if transaction_pooled and options.get("prepare_threshold") is not None:
            errors.append(
                Error(
                    f"DATABASES[{alias!r}] prepares statements on the server connection, which "
                    "a transaction pooler hands to other clients.",
                    hint="Leave OPTIONS['prepare_threshold'] unset (Django's None).",
                    id="core.E104",
                )
            )
        if transaction_pooled and ("assume_role" in options or "-c" in options.get("options", "")):
            errors.append(
                Error(
                    f"DATABASES[{alias!r}] sets session state when it connects (assume_role, or "
                    "-c in options): behind a transaction pooler it stays on one server "
                    "connection and misses the others.",
                    hint="Configure it on the database role instead (ALTER ROLE ... SET ...).",
                    id="core.E105",
                )
            )
    return errors


@register("database_pooling")
def database_pooling_is_safe(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    return pooling_problems(settings.DATABASES, settings.DATABASE_POOL_MODE)
