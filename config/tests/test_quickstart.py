"""A newcomer's first hour, for real: a fresh ``git clone``, ``.env.example`` copied to ``.env``
unchanged, then ``make run``'s steps (``make prepare``: services, database, migrations, demo
data) and ``make run``'s own server, briefly, answering one sign-in.

The clone shares the suite's virtualenv (``make -o`` keeps make from reinstalling it) and gets
its own database name from the environment, which wins over ``.env``: the PostgreSQL server is
shared with everything else on this machine. Everything else comes from ``.env.example``."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent.parent
VENV = Path(sys.prefix)
KEEP_VENV = ["-o", ".venv/.install-stamp"]
# What a developer's shell (or this suite) may have set that .env.example must decide instead.
CONFIGURED = ("POSTGRES_", "DATABASE_URL", "DJANGO_", "JWT_", "CORS_", "CSRF_", "LOG_DIR", "AWS_")

pytestmark = pytest.mark.skipif(
    not (shutil.which("git") and shutil.which("make") and (ROOT / ".git").exists()),
    reason="needs git, make and a git checkout",
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _local_server_answers() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=0.5).close()
        return True
    except OSError:
        return False


@pytest.fixture
def fresh_clone(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """The committed tree in a new directory with ``.env`` copied from ``.env.example``, and
    the environment to run it in; its database is dropped afterwards."""
    clone = tmp_path / "smoothschedule"
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(ROOT), str(clone)], check=True)
    subprocess.run(["git", "checkout", "-q", head], cwd=clone, check=True)
    shutil.copy(clone / ".env.example", clone / ".env")
    (clone / ".venv").symlink_to(VENV)
    name = f"ss_quickstart_{uuid.uuid4().hex[:12]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(CONFIGURED)}
    env["POSTGRES_DB"] = name
    try:
        yield clone, env
    finally:
        # The clone found its server the README's way: the local one, unless embedded (whose
        # data lives, and goes, with the clone).
        if env.get("DATABASE") != "embedded" and _local_server_answers():
            with psycopg.connect(
                host="127.0.0.1", user="postgres", dbname="postgres", autocommit=True
            ) as admin:
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


def _sign_in(port: int) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        body = {"email": "owner@demo.localhost", "password": "demo-password-2026"}
        conn.request(
            "POST", "/api/auth/token/", body=json.dumps(body),
            headers={"Host": f"demo.localhost:{port}", "Content-Type": "application/json"},
        )  # fmt: skip
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def _processes_of(session_id: int, name: str) -> int:
    """How many processes of ``make run``'s session run ``name`` (worker and beat for celery)."""
    count = 0
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
            cmdline = (status.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError):
            continue
        if int(fields[3]) == session_id and name in cmdline:
            count += 1
    return count


def test_env_example_runs_the_quick_start_in_a_fresh_clone(fresh_clone) -> None:
    clone, env = fresh_clone
    port = _free_port()
    prepared = subprocess.run(
        ["make", *KEEP_VENV, "prepare", f"PORT={port}"],
        cwd=clone, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert prepared.returncode == 0, (prepared.stdout[-3000:], prepared.stderr[-3000:])
    assert "Traceback" not in prepared.stderr, prepared.stderr[-3000:]
    # seed_demo is quiet: its banner, not the audit trail's console copy.
    assert f"Demo tenant 'demo' on http://demo.localhost:{port}/api/" in prepared.stdout
    assert "demo-password-2026" in prepared.stdout
    assert '"event": "user_created"' not in prepared.stdout

    mail_port = _free_port()
    server = subprocess.Popen(
        ["make", *KEEP_VENV, "-o", "prepare", "run", f"PORT={port}", f"MAIL_PORT={mail_port}"],
        cwd=clone, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True,
    )  # fmt: skip
    assert server.stderr is not None  # stderr=PIPE
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stderr.read().decode()[-3000:]
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "make run never listened"
                time.sleep(0.2)
        status, tokens = _sign_in(port)
        assert status == 200, tokens
        assert set(tokens) == {"access", "refresh"}
        # Beside the server: the local mail sink a developer reads (.mail/), and Celery.
        socket.create_connection(("127.0.0.1", mail_port), timeout=5).close()
        assert _processes_of(server.pid, "celery") >= 2, "the Celery worker and beat did not start"
    finally:
        # Ctrl-C, as a developer stops `make run`: the processes exit cleanly (an embedded
        # PostgreSQL stops with its last user).
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
