"""config.database picks the server in the README's order."""

from pathlib import Path

import environ
import pytest

from config import database


def env_with(**values: str) -> environ.Env:
    env = environ.Env()
    env.ENVIRON = dict(values)
    return env


@pytest.fixture
def no_embedded(monkeypatch):
    def refuse(base_dir: Path) -> str:
        raise AssertionError("the embedded server must not be started here")

    monkeypatch.setattr(database, "_embedded_socket_dir", refuse)


def test_database_url_wins(no_embedded):
    config = database.resolve_database(
        env_with(DATABASE_URL="postgres://u:p@db.example:6543/x"), Path()
    )
    assert (config["HOST"], config["PORT"], config["NAME"], config["USER"]) == (
        "db.example",
        6543,
        "x",
        "u",
    )
    assert config["ENGINE"] == "core.db"


def test_postgres_host_parts_are_used(no_embedded):
    config = database.resolve_database(
        env_with(
            POSTGRES_HOST="postgres", POSTGRES_DB="ss", POSTGRES_USER="ss", POSTGRES_PASSWORD="pw"
        ),
        Path(),
    )
    assert (config["HOST"], config["NAME"], config["USER"], config["PASSWORD"]) == (
        "postgres",
        "ss",
        "ss",
        "pw",
    )


@pytest.mark.parametrize(("port", "expected"), [("", 5432), ("6432", 6432)])
def test_a_blank_postgres_port_is_the_default_one(no_embedded, port, expected):
    """A socket directory as POSTGRES_HOST comes with no port (the embedded server's), and a
    .env may say ``POSTGRES_PORT=``: neither is an error."""
    config = database.resolve_database(
        env_with(POSTGRES_HOST="/tmp/pg-socket", POSTGRES_PORT=port), Path()
    )
    assert config["PORT"] == expected


def test_running_local_server_is_used_when_nothing_is_configured(no_embedded, monkeypatch):
    monkeypatch.setattr(database, "_local_server_answers", lambda: True)
    config = database.resolve_database(env_with(), Path())
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("127.0.0.1", 5432, "smoothschedule")


def test_embedded_server_when_nothing_answers(monkeypatch):
    monkeypatch.setattr(database, "_local_server_answers", lambda: False)
    monkeypatch.setattr(database, "_embedded_socket_dir", lambda base_dir: "/tmp/socket-dir")
    config = database.resolve_database(env_with(), Path())
    assert (config["HOST"], config["USER"]) == ("/tmp/socket-dir", "postgres")


def test_database_embedded_forces_the_embedded_server(monkeypatch):
    monkeypatch.setattr(database, "_local_server_answers", lambda: True)
    monkeypatch.setattr(database, "_embedded_socket_dir", lambda base_dir: "/tmp/socket-dir")
    config = database.resolve_database(
        env_with(DATABASE="embedded", DATABASE_URL="postgres://u:p@db.example/x"), Path()
    )
    assert config["HOST"] == "/tmp/socket-dir"
