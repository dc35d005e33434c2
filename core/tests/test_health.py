"""Liveness and readiness answer on every host, and readiness names the dependency that is down:
a cache or broker at a closed port, a broker that accepts and never answers, a database nobody
can reach (then the API itself answers JSON 503s with Retry-After, never a 500 or HTML)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from appointments.tests.live import request
from conftest import HOST_A, PLATFORM_HOST, bearer
from core.tests.processes import answers, free_port, server_process
from users.roles import Role

CLOSED = f"127.0.0.1:{free_port()}"  # nothing listens there
redis_needed = pytest.mark.skipif(not answers(6379), reason="no Redis on 127.0.0.1:6379")


@pytest.fixture
def cache_at_closed_port(settings) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://{CLOSED}/0",
        }
    }


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP server that accepts connections and never says a word; yields host:port."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept)
    thread.start()
    try:
        yield f"127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        listener.close()


@pytest.mark.parametrize("host", ["10.0.0.7:8000", PLATFORM_HOST, HOST_A, "nobody.localhost"])
def test_health_answers_on_every_host_touching_nothing(client, host, cache_at_closed_port):
    # No database fixture: any query would fail this test; the cache points at a closed port.
    response = client.get("/health/", HTTP_HOST=host)
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert response["Cache-Control"] == "no-store"


@redis_needed
@pytest.mark.parametrize("host", ["10.0.0.7", HOST_A])
def test_ready_answers_ok_naming_each_dependency(client, db, host):
    response = client.get("/ready/", HTTP_HOST=host)
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "broker": "ok"},
    }


@redis_needed
def test_ready_is_503_naming_the_cache_when_it_points_at_a_closed_port(
    client, db, cache_at_closed_port
):
    response = client.get("/ready/", HTTP_HOST=HOST_A)
    assert response.status_code == 503
    body = response.json()
    assert body["checks"] == {"database": "ok", "cache": "unavailable", "broker": "ok"}
    assert body["error"] == {"code": "not_ready", "message": "Not ready: cache unavailable."}
    assert CLOSED not in response.content.decode()  # the reason is logged, not shown


def test_ready_is_503_naming_the_broker_when_it_points_at_a_closed_port(client, db, settings):
    settings.CELERY_BROKER_URL = f"redis://{CLOSED}/0"
    response = client.get("/ready/", HTTP_HOST=HOST_A)
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "broker": "unavailable"}


def test_ready_answers_in_time_when_the_broker_never_answers(client, db, settings, silent_server):
    settings.CELERY_BROKER_URL = f"redis://{silent_server}/0"
    settings.READINESS_TIMEOUT_SECONDS = 0.5
    started = time.monotonic()
    response = client.get("/ready/", HTTP_HOST=HOST_A)
    assert time.monotonic() - started < 2.5
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] in ("timeout", "unavailable")


def test_probes_take_only_get_and_head(client):
    response = client.post("/health/", HTTP_HOST=HOST_A)
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert client.head("/health/", HTTP_HOST=HOST_A).status_code == 200


def test_with_the_database_unreachable_every_answer_is_a_json_503(tmp_path: Path, make_user):
    token = bearer(make_user(Role.SUPERUSER), "public")
    settings = (
        "from config.settings.test import *  # noqa: F403\n"
        "from config.settings.test import DATABASES\n"
        f"DATABASES['default'] |= {{'HOST': '127.0.0.1', 'PORT': {CLOSED.split(':')[1]}}}\n"
    )
    with server_process(tmp_path, settings) as port:
        alive = request(port, "GET", "/health/", host="10.0.0.7")
        assert alive.status == 200  # the process is fine: do not restart it
        ready = request(port, "GET", "/ready/", host="10.0.0.7")
        assert ready.status == 503
        assert ready.body["checks"]["database"] == "unavailable"
        for host, path in [(HOST_A, "/api/services/"), (PLATFORM_HOST, "/api/me/")]:
            answer = request(port, "GET", path, host=host, Authorization=token)
            assert answer.status == 503, (host, answer.body)
            assert answer.headers["content-type"] == "application/json"
            assert answer.body["error"]["code"] == "database_unavailable"
            assert int(answer.headers["retry-after"]) > 0
