"""Find the PostgreSQL server this process should use.

The order is the README's promise: what the environment configures; else a server answering on
127.0.0.1:5432; else an embedded PostgreSQL (the ``pgserver`` package) whose data lives in the
git-ignored ``.pgdata/`` folder and which stops when the last process using it exits.
``DATABASE=embedded`` skips the first two.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import environ

LOCAL_HOST, LOCAL_PORT = "127.0.0.1", 5432
# django-tenants' backend with the tenant's search path pinned per transaction (core/db/), safe
# behind a transaction-pooling PgBouncer.
ENGINE = "core.db"


def _local_server_answers() -> bool:
    try:
        with socket.create_connection((LOCAL_HOST, LOCAL_PORT), timeout=0.5):
            return True
    except OSError:
        return False


def _embedded_socket_dir(base_dir: Path) -> str:
    import pgserver  # dev dependency: only needed when no server is configured or running

    server = pgserver.get_server(base_dir / ".pgdata", cleanup_mode="stop")
    # pgserver listens on a Unix socket only; its URI names the socket directory as ``host``.
    return parse_qs(urlsplit(server.get_uri()).query)["host"][0]


def resolve_database(env: environ.Env, base_dir: Path) -> dict[str, Any]:
    """Return Django's ``DATABASES['default']`` for the server chosen by the rules above."""
    name = env.str("POSTGRES_DB", default="smoothschedule")
    forced_embedded = env.str("DATABASE", default="") == "embedded"

    if not forced_embedded and env.str("DATABASE_URL", default=""):
        config = env.db_url("DATABASE_URL")
    elif not forced_embedded and env.str("POSTGRES_HOST", default=""):
        config = {
            "NAME": name,
            "USER": env.str("POSTGRES_USER", default="postgres"),
            "PASSWORD": env.str("POSTGRES_PASSWORD", default=""),
            "HOST": env.str("POSTGRES_HOST"),
            # Blank (``POSTGRES_PORT=`` in a .env, or a socket directory's default) is 5432.
            "PORT": int(env.str("POSTGRES_PORT", default="") or 5432),
        }
    elif not forced_embedded and _local_server_answers():
        config = {
            "NAME": name,
            "USER": env.str("POSTGRES_USER", default="postgres"),
            "PASSWORD": env.str("POSTGRES_PASSWORD", default=""),
            "HOST": LOCAL_HOST,
            "PORT": LOCAL_PORT,
        }
    else:
        config = {
            "NAME": name,
            "USER": "postgres",
            "PASSWORD": "",
            "HOST": _embedded_socket_dir(base_dir),
            "PORT": "",
        }
    config["ENGINE"] = ENGINE
    # The backend refuses server-side cursors (see core.db.base); this keeps the ORM from asking.
    config["DISABLE_SERVER_SIDE_CURSORS"] = True
    return config
