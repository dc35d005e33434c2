"""Tools of the pooling tests and bench: a real PgBouncer (Debian's binary, started on a free
127.0.0.1 port with an ini file and user list of its own in a temporary directory, pooling the
test database in transaction mode onto a few server connections, so clients really do share
them), requests made the way a WSGI server makes them, and a trace of the wire-protocol
messages a connection exchanges."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from wsgiref.util import setup_testing_defaults

from django.db import connections
from psycopg import pq

START_TIMEOUT_SECONDS = 10
# PgBouncer refuses to run as root; as root the tests hand it to another user, e.g. these.
UNPRIVILEGED_USERS = ("postgres", "nobody")


T = TypeVar("T")


def in_own_thread(work: Callable[[], T]) -> T:
    """Run ``work`` on a fresh database connection (in autocommit mode, committing as it goes)
    in a thread of its own; the test's connection stays inside the test's transaction."""

    def run() -> T:
        try:
            return work()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def pgbouncer_binary() -> str | None:
    return shutil.which("pgbouncer") or next(
        (path for path in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if Path(path).exists()),
        None,
    )


@dataclass(frozen=True)
class Site:
    """A tenant's host and a credential valid on it."""

    schema: str
    host: str
    token: str


def get(handler: Any, site: Site, path: str) -> tuple[str, bytes]:
    """``GET path`` on ``site`` through a WSGI handler; the status line and the body."""
    environ = {"PATH_INFO": path, "HTTP_HOST": site.host, "HTTP_AUTHORIZATION": site.token}
    setup_testing_defaults(environ)
    statuses: list[str] = []
    response = handler(environ, lambda status, headers, exc_info=None: statuses.append(status))
    try:
        return statuses[0], b"".join(response)
    finally:
        response.close()


@dataclass(frozen=True)
class PgBouncer:
    host: str
    port: int


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _ini(database: dict[str, Any], port: int, workdir: Path, pool_size: int) -> str:
    # A HOST starting with "/" is the socket directory of a Unix-socket-only server (the
    # embedded pgserver); PgBouncer reaches it the same way libpq does.
    server = f"host={database['HOST'] or '127.0.0.1'} port={database['PORT'] or 5432}"
    server += f" dbname={database['NAME']} user={database['USER']}"
    if database["PASSWORD"]:
        server += f" password={database['PASSWORD']}"
    return f"""\
[databases]
{database["NAME"]} = {server}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {workdir / "userlist.txt"}
pool_mode = transaction
default_pool_size = {pool_size}
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = 500
max_db_connections = {pool_size}
ignore_startup_parameters = extra_float_digits
logfile = {workdir / "pgbouncer.log"}
pidfile = {workdir / "pgbouncer.pid"}
log_connections = 0
log_disconnections = 0
admin_users = {database["USER"]}
"""


@contextmanager
def running_pgbouncer(database: dict[str, Any], *, pool_size: int = 2) -> Iterator[PgBouncer]:
    """Run PgBouncer in front of ``database`` (a Django settings dict) until the block ends."""
    binary = pgbouncer_binary()
    if binary is None:
        raise FileNotFoundError("pgbouncer")
    workdir = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
    port = _free_port()
    (workdir / "pgbouncer.ini").write_text(_ini(database, port, workdir, pool_size))
    (workdir / "userlist.txt").write_text(f'"{database["USER"]}" ""\n')
    command = [binary, str(workdir / "pgbouncer.ini")]
    if os.geteuid() == 0:
        account = _unprivileged_account(database["HOST"])
        user = account.pw_name
        for path in (workdir, *workdir.iterdir()):
            os.chown(path, account.pw_uid, account.pw_gid)
        command[1:1] = ["-u", user]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    bouncer = PgBouncer(host="127.0.0.1", port=port)
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not _accepts(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"PgBouncer did not start:\n{_read(workdir)}")
            time.sleep(0.05)
        yield bouncer
    finally:
        process.terminate()  # SIGTERM: immediate shutdown, server connections closed
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def _unprivileged_account(host: str) -> pwd.struct_passwd:
    """Who runs PgBouncer when the tests run as root (it refuses root): the owner of the
    server's socket directory, who can reach the socket in it, else a system user."""
    if host.startswith("/") and (owner := os.stat(host).st_uid) != 0:
        return pwd.getpwuid(owner)
    for name in UNPRIVILEGED_USERS:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError(f"PgBouncer refuses root and none of {UNPRIVILEGED_USERS} exists")


def _read(workdir: Path) -> str:
    log = workdir / "pgbouncer.log"
    return log.read_text(errors="replace") if log.exists() else "(no log)"


@contextmanager
def wire_messages(connection: Any) -> Iterator[list[str]]:
    """The protocol messages a Django connection exchanges inside the block (libpq's trace):
    ``F`` lines are sent by the client, ``B`` lines by the server, e.g. ``F Query "..."`` and
    ``B ReadyForQuery I``. The list is filled when the block ends."""
    connection.ensure_connection()
    pgconn = connection.connection.pgconn
    messages: list[str] = []
    with tempfile.TemporaryFile("w+") as trace:
        # libpq writes through a FILE* of its own on a duplicate of the descriptor; it is
        # flushed at untrace and never written again, so the duplicate can be closed then.
        descriptor = os.dup(trace.fileno())
        pgconn.trace(descriptor)
        pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            yield messages
        finally:
            pgconn.untrace()
            os.close(descriptor)
            trace.seek(0)
            messages.extend(_message(line) for line in trace.read().splitlines())


def _message(line: str) -> str:
    direction, _length, kind, *rest = line.split("\t")
    return " ".join(part.strip() for part in (direction, kind, *rest) if part.strip())
