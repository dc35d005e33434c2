"""Another server process for tests that need one: gunicorn (as in production) serving
``config.wsgi`` with settings of the test's own, on a free port of 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@contextmanager
def server_process(tmp_path: Path, settings_source: str) -> Iterator[int]:
    """Serve the project in a process of its own whose settings module is ``settings_source``
    (Python, typically ``from config.settings.test import *`` plus overrides); yields the port."""
    (tmp_path / "process_settings.py").write_text(settings_source)
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "process_settings",
        "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind",
         f"127.0.0.1:{port}", "--workers", "1", "--threads", "4", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert server.stderr is not None  # stderr=PIPE
    try:
        deadline = time.monotonic() + 30
        while not answers(port):
            assert server.poll() is None, server.stderr.read().decode()[-3000:]
            assert time.monotonic() < deadline, "the server process never listened"
            time.sleep(0.1)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)
