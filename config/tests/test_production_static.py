"""Production serves its own static files: the image build's collectstatic step
(compose/django/collectstatic, run by the Dockerfile) writes hashed, compressed files, and
gunicorn under ``config.settings.production`` (DEBUG off) serves them through WhiteNoise, so
the admin is styled and ``/api/docs/`` renders its operations in a real browser."""

from __future__ import annotations

import gzip
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from config.tests.servers import server_environment

ROOT = Path(settings.BASE_DIR)
VENV_BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
# As the TLS-terminating proxy production runs behind says (SECURE_PROXY_SSL_HEADER).
BEHIND_TLS = {"X-Forwarded-Proto": "https"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(port: int, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Host": "localhost", **BEHIND_TLS, **headers})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def production_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """The image's static files, built as the Dockerfile does, and gunicorn serving them with
    production settings (no database is reached by what these tests ask)."""
    tmp = tmp_path_factory.mktemp("production")
    static_root = tmp / "staticfiles"
    env = server_environment(
        tmp / "logs",
        DJANGO_STATIC_ROOT=str(static_root),
        REDIS_URL="redis://127.0.0.1:6379/0",
        PATH=f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
    )
    built = subprocess.run(
        ["compose/django/collectstatic"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-3000:]
    port = _free_port()
    server = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--threads", "4", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
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
                assert time.monotonic() < deadline, "gunicorn never listened"
                time.sleep(0.1)
        yield port, static_root
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_image_build_collects_static_files() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "RUN compose/django/collectstatic" in dockerfile
    assert "collectstatic" not in (ROOT / "compose/django/start").read_text()


def test_the_admin_is_styled_with_hashed_compressed_files(production_server) -> None:
    port, static_root = production_server
    manifest = json.loads((static_root / "staticfiles.json").read_text())["paths"]
    hashed = manifest["admin/css/base.css"]
    assert re.fullmatch(r"admin/css/base\.[0-9a-f]{12}\.css", hashed)

    status, _, page = _get(port, "/admin/login/")
    assert status == 200
    assert f'href="/static/{hashed}"'.encode() in page  # the admin links the hashed file

    status, headers, body = _get(port, f"/static/{hashed}", **{"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["content-encoding"] == "gzip"
    assert headers["cache-control"] == "max-age=315360000, public, immutable"
    assert b"--body-fg" in gzip.decompress(body)  # the admin's stylesheet, whole

    assert _get(port, "/static/admin/css/base.css")[0] == 404  # only hashed names are kept


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"No browser: {CHROMIUM} is missing")
def test_api_docs_list_the_operations_in_a_browser(production_server) -> None:
    from playwright.sync_api import sync_playwright

    port, _ = production_server
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(extra_http_headers=BEHIND_TLS)
            failed: list[str] = []
            page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
            page.goto(f"http://localhost:{port}/api/docs/")
            page.wait_for_selector(".opblock", timeout=30_000)
            operations = page.locator(".opblock-summary-path").all_inner_texts()
            assert "/api/auth/token/" in operations
            assert "/api/platform/tenants/" in operations
            assert failed == []
        finally:
            browser.close()
