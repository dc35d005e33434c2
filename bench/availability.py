"""What a month of availability costs to send, over real HTTP: bytes on the wire and the median
latency of ``GET /api/availability/`` in each shape, against a trivial authenticated GET
(``/api/me/``) measured interleaved with it on the same server.

The server is gunicorn (one sync worker, the project's WSGI application, the development
settings with DEBUG off) on a free port of 127.0.0.1, a new TCP connection per request as its
sync workers answer; the client is ``http.client`` in this process. The service is a busy one:
any of three stylists AND one of two rooms, open 08:00-20:00 every day, one of the stylists
holding 500 appointments (``bench.scheduling.World``), so a month has about 1,500 free starts.

    .venv/bin/python -m bench availability        # BENCH_REPEATS=30 by default
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.measure import connection
from bench.scheduling import HOST, World, _drop, _every_day
from catalog.services import service_create
from resources.services import resource_create

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn() -> Iterator[int]:
    """The application under gunicorn on a free port; yields the port once it answers."""
    port = _free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.base", "DJANGO_DEBUG": "False"}
    server = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert server.stderr is not None  # stderr=PIPE
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _get(port, "/health/")
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"gunicorn did not start: {server.stderr.read()!r}"
                    ) from None
                time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def _get(port: int, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers={"Host": HOST, **headers})
        response = conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        conn.close()


def _busy_service(world: World) -> Any:
    make = lambda name, kind: resource_create(  # noqa: E731
        tenant=world.tenant, actor=world.owner, name=name, type=kind,
        working_hours=_every_day(8, 20),
    )  # fmt: skip
    stylists = [world.stylist, make("Stylist B", "STAFF"), make("Stylist C", "STAFF")]
    return service_create(
        actor=world.owner, name="Colour", duration_minutes=30, price=Decimal("50"),
        max_advance_days=365,
        requirements=[
            {"resource_type": "STAFF", "eligible_resources": stylists},
            {"resource_type": "ROOM", "eligible_resources": [world.room, world.room2]},
        ],
    )  # fmt: skip


def bench_payload(world: World, repeats: int) -> list[dict[str, Any]]:
    connection.set_tenant(world.tenant)
    service = _busy_service(world)
    query = {
        "service": str(service.public_id),
        "start": str(world.first_day),
        "end": str(world.first_day + timedelta(days=30)),
    }
    auth = {"Authorization": world.token()}
    zipped = {**auth, "Accept-Encoding": "gzip"}
    slots_path = f"/api/availability/?{urlencode(query)}"
    compact_path = f"/api/availability/?{urlencode({**query, 'shape': 'compact'})}"
    with gunicorn() as port:
        status, headers, body = _get(port, compact_path, **zipped)
        if status != 200 or headers.get("content-encoding") != "gzip":
            raise RuntimeError(f"compact availability answered {status} {headers}")
        tag = headers["etag"]
        variants: dict[str, tuple[str, dict[str, str]]] = {
            "me": ("/api/me/", auth),
            "slots": (slots_path, auth),
            "slots_gzip": (slots_path, zipped),
            "compact": (compact_path, auth),
            "compact_gzip": (compact_path, zipped),
            "compact_gzip_304": (compact_path, {**zipped, "If-None-Match": tag}),
        }
        expected = {"compact_gzip_304": 304}
        sizes: dict[str, int] = {}
        samples: dict[str, list[float]] = {name: [] for name in variants}
        for name, (path, sent) in variants.items():  # warm up, and the sizes
            status, _, body = _get(port, path, **sent)
            if status != expected.get(name, 200):
                raise RuntimeError(f"{name} answered {status}")
            sizes[name] = len(body)
        slots_count = len(json.loads(_get(port, slots_path, **auth)[2])["slots"])
        if sizes["compact_gzip_304"]:
            raise RuntimeError("a 304 must have no body")
        for _ in range(repeats):  # interleaved, so the machine's load hits every variant alike
            for name, (path, sent) in variants.items():
                began = time.perf_counter()
                _get(port, path, **sent)
                samples[name].append(time.perf_counter() - began)
    p50 = {name: round(statistics.median(s) * 1000, 3) for name, s in samples.items()}
    return [
        {
            "name": "availability_bytes",
            "what": f"bytes of 31 days of free starts of a busy service ({slots_count} starts, "
            "any of 3 stylists AND one of 2 rooms): shape=compact, gzip",
            "repeats": 1,
            "bytes": sizes["compact_gzip"],
            "baseline": "today's answer: shape=slots, uncompressed",
            "baseline_bytes": sizes["slots"],
            "ratio_to_baseline": round(sizes["compact_gzip"] / sizes["slots"], 4),
            "bytes_by_variant": sizes,
        },
        {
            "name": "availability_http_p50",
            "what": "GET /api/availability/ for those 31 days over HTTP (gunicorn, new TCP "
            "connection per request): shape=compact, gzip",
            "repeats": repeats,
            "median_ms": p50["compact_gzip"],
            "baseline": "GET /api/me/, a trivial authenticated GET, interleaved on the same server",
            "baseline_median_ms": p50["me"],
            "ratio_to_baseline": round(p50["compact_gzip"] / p50["me"], 3),
            "median_ms_by_variant": p50,
            "ratio_to_me_by_variant": {k: round(v / p50["me"], 3) for k, v in p50.items()},
        },
    ]


def run(repeats: int = 30) -> list[dict[str, Any]]:
    world = World()
    try:
        return bench_payload(world, repeats)
    finally:
        _drop()
