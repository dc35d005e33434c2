"""`manage.py ensure_database` (the first step of `make run`) answers a server it cannot use with
one sentence saying what to change, never a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError

from core.management.commands.ensure_database import database_ensure

ROOT = Path(settings.BASE_DIR)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_missing_role_is_one_sentence_with_the_fix(tmp_path: Path) -> None:
    # The seed README's .env names a role no development server has.
    server = settings.DATABASES["default"]
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE", "DATABASE_URL")}
    env |= {
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "POSTGRES_HOST": server["HOST"],
        "POSTGRES_PORT": str(server["PORT"] or 5432),
        "POSTGRES_USER": "smoothschedule_user",
        "POSTGRES_PASSWORD": "your_secure_password",
        "LOG_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "ensure_database"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("CommandError: The PostgreSQL server ")
    assert 'has no role "smoothschedule_user": remove POSTGRES_USER from .env' in line
    assert "createuser --createdb smoothschedule_user" in line


def test_an_unreachable_server_is_named_with_what_to_do() -> None:
    port = _free_port()  # nothing listens there
    config = {"NAME": "x", "USER": "postgres", "PASSWORD": "", "HOST": "127.0.0.1", "PORT": port}
    with pytest.raises(CommandError) as refused:
        database_ensure(config)
    message = str(refused.value)
    assert message.startswith(
        f"Cannot reach the PostgreSQL server at 127.0.0.1:{port} (Connection refused): start it"
    )
    assert "POSTGRES_HOST and POSTGRES_PORT" in message
    assert "\n" not in message
