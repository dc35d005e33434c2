"""Redis down is not "nobody can sign in": with production's cache settings pointed at a Redis
that refuses connections or never answers, every cache use falls back to the process's memory,
the outage is logged once, and no request is a 500."""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import environ
import pytest
import redis
from django.core.cache import cache

from config.settings.cache import redis_cache
from conftest import HOST_A, PASSWORD
from users.roles import Role

pytestmark = pytest.mark.django_db


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SilentServer:
    """A TCP server that accepts connections and never answers (a hung Redis)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.connections: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections.append(connection)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for connection in self.connections:
            connection.close()
        self.sock.close()


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


def use_redis_at(settings, port: int, **overrides) -> None:
    """Production's cache settings (config/settings/cache.py), aimed at ``port``."""
    settings.CACHES = {
        "default": redis_cache(environ.Env(), f"redis://127.0.0.1:{port}/0") | overrides
    }


def cache_errors(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "core.cache" and r.levelno >= logging.ERROR]


def sign_in(api, email, password, n):
    return api(HOST_A).post(
        "/api/auth/token/",
        {"email": email, "password": password},
        format="json",
        REMOTE_ADDR=f"203.0.113.{n}",
    )


@pytest.mark.parametrize("redis_is", ["refusing", "silent"])
def test_sign_in_works_while_the_cache_is_unreachable(
    api, make_user, tenant_a, settings, caplog, silent_server, redis_is
):
    port = free_port() if redis_is == "refusing" else silent_server.port
    # Production's timeouts; a retry period longer than the test, to count the tries.
    use_redis_at(settings, port, FALLBACK_RETRY_SECONDS=60)
    settings.LOGIN_LOCKOUT_THRESHOLD = 3
    user = make_user(Role.CUSTOMER, tenant_a)

    signed_in = sign_in(api, user.email, PASSWORD, 1)
    assert signed_in.status_code == 200
    access = signed_in.json()["access"]
    assert api(HOST_A).get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {access}").status_code == 200
    answer = sign_in(api, user.email, "wrong", 2)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "authentication_failed"

    # The lockout still holds, counted in this process's memory.
    assert [sign_in(api, user.email, "wrong", n).status_code for n in (3, 4)] == [401, 401]
    locked = sign_in(api, user.email, PASSWORD, 5)
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "sign_in_locked"

    assert len(cache_errors(caplog)) == 1
    if redis_is == "silent":
        # One request waited for Redis (socket_timeout); the others did not try again.
        assert len(silent_server.connections) == 1


def test_a_dead_cache_costs_one_timeout_not_one_per_call(settings, silent_server):
    use_redis_at(settings, silent_server.port)
    began = time.monotonic()
    cache.get("first")  # waits socket_timeout (a quarter of a second) and gives up on Redis
    first = time.monotonic() - began
    began = time.monotonic()
    for n in range(200):
        cache.set(f"key-{n}", n)
        assert cache.get(f"key-{n}") == n
    rest = time.monotonic() - began
    assert 0.2 <= first < 2
    assert rest < 0.5


def test_every_cache_operation_falls_back(settings):
    use_redis_at(settings, free_port())
    assert cache.add("a", 1) is True
    assert cache.add("a", 2) is False
    assert cache.get("a") == 1
    assert cache.incr("a") == 2
    assert cache.decr("a") == 1
    cache.set("b", "x", timeout=60)
    assert cache.touch("b", 120) is True
    assert cache.has_key("b")
    assert cache.get_many(["a", "b"]) == {"a": 1, "b": "x"}
    assert cache.set_many({"c": 3, "d": 4}) == []
    assert cache.get_or_set("e", 5) == 5
    assert cache.delete("c") is True
    cache.delete_many(["a", "b"])
    assert cache.get_many(["a", "b", "d"]) == {"d": 4}
    cache.clear()
    assert cache.get("d") is None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[tuple[int, Callable[[bool], None]]]:
    """A redis-server of this test's own on a free port, and a function that stops it or
    starts it again on the same port."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("no redis-server here (make test installs it)")
    port = free_port()
    process: list[subprocess.Popen] = []

    def running(on: bool) -> None:
        if not on:
            stopping = process.pop()
            stopping.terminate()
            stopping.wait()
            return
        process.append(
            subprocess.Popen(
                [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", str(tmp_path)],
                stdout=subprocess.DEVNULL,
            )
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=port).ping()
                return
            except redis.exceptions.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.02)

    running(True)
    yield port, running
    for leftover in process:
        leftover.terminate()
        leftover.wait()


def test_an_outage_is_logged_once_and_so_is_the_return(settings, caplog, own_redis):
    port, running = own_redis
    use_redis_at(settings, port, FALLBACK_RETRY_SECONDS=0.2)
    server = redis.Redis(port=port)
    cache.set("shared", 1)
    assert server.exists(cache.make_key("shared"))

    running(False)
    cache.set("during", 2)  # in this process's memory
    assert cache.get("during") == 2
    assert cache.get("shared") is None
    assert len(cache_errors(caplog)) == 1

    running(True)
    time.sleep(0.25)
    cache.set("after", 3)
    assert server.exists(cache.make_key("after"))
    back = [r for r in caplog.records if r.name == "core.cache" and "again" in r.getMessage()]
    assert len(back) == 1
    assert len(cache_errors(caplog)) == 1
