"""Create the configured database if the server does not have it yet (fresh machines), or say in
one sentence why the server cannot be used and what to change."""

import re
from typing import Any

import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from psycopg import errors, sql

CONNECT_TIMEOUT_SECONDS = 5


def _where(config: dict[str, Any]) -> str:
    host = config["HOST"] or "localhost"
    if host.startswith("/"):
        return f"PostgreSQL server on the socket in {host}"
    return f"PostgreSQL server at {host}:{config['PORT'] or 5432}"


def connection_problem(error: psycopg.OperationalError, config: dict[str, Any]) -> str:
    """What went wrong reaching the server of ``config``, and what to do, in one sentence.
    libpq reports a failed connection as text only (no SQLSTATE), hence the patterns."""
    where, user, text = _where(config), config["USER"], str(error)
    if re.search(r'FATAL: +role ".*" does not exist', text):
        return (
            f'The {where} has no role "{user}": remove POSTGRES_USER from .env (or the user '
            f'from DATABASE_URL) to use the server\'s "postgres" role, or create it there '
            f"(createuser --createdb {user})."
        )
    if "password authentication failed" in text or "no password supplied" in text:
        return (
            f'The {where} refused the password of role "{user}": set POSTGRES_PASSWORD (or '
            "DATABASE_URL) in .env to that role's password."
        )
    if "FATAL:" in text:
        reason = text.split("FATAL:", 1)[1].strip().splitlines()[0]
        return (
            f"The {where} refused the connection ({reason}): check the POSTGRES_* settings in .env."
        )
    reason = re.sub(r"^.*failed: ", "", text.strip().splitlines()[0])
    return (
        f"Cannot reach the {where} ({reason}): start it, or point POSTGRES_HOST and POSTGRES_PORT "
        "(or DATABASE_URL) in .env at a running server, or remove them to use the one on "
        "127.0.0.1:5432 or else the embedded one."
    )


def database_ensure(config: dict[str, Any]) -> bool:
    """Create ``config``'s database on its server unless it exists. Returns whether it created
    it; raises CommandError with the reason when the server cannot be used."""
    params = {
        "dbname": "postgres",
        "user": config["USER"],
        "password": config["PASSWORD"] or None,
        "host": config["HOST"] or None,
        "port": config["PORT"] or None,
        "connect_timeout": CONNECT_TIMEOUT_SECONDS,
    }
    try:
        conn = psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True)
    except psycopg.OperationalError as error:
        raise CommandError(connection_problem(error, config)) from None
    with conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]
        ).fetchone()
        if exists:
            return False
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))
        except errors.InsufficientPrivilege:
            raise CommandError(
                f'The {_where(config)} has no database "{config["NAME"]}" and role '
                f'"{config["USER"]}" may not create one: create it there '
                f"(createdb -O {config['USER']} {config['NAME']}) or give the role CREATEDB."
            ) from None
    return True


class Command(BaseCommand):
    help = "Create the database named in settings on its server when it is missing."

    def handle(self, *args: Any, **options: Any) -> None:
        config = settings.DATABASES["default"]
        if database_ensure(config):
            self.stdout.write(self.style.SUCCESS(f"Created database {config['NAME']}."))
        else:
            self.stdout.write(f"Database {config['NAME']} is there ({config['HOST']}).")
