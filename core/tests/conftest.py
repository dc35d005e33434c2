"""Fixtures for the security tests: a masquerade log of each test's own, the security log lines a
test wrote, a clock the test controls, and browser-like clients (one cookie jar per host)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client

from core import clock


@pytest.fixture(autouse=True)
def masquerade_log(settings: Any, tmp_path: Path) -> Path:
    path = tmp_path / "masquerade.log"
    settings.MASQUERADE_LOG_FILE = path
    return path


@pytest.fixture
def masquerade_lines(masquerade_log: Path) -> Callable[[], list[dict[str, Any]]]:
    def read() -> list[dict[str, Any]]:
        if not masquerade_log.exists():
            return []
        return [json.loads(line) for line in masquerade_log.read_text().splitlines()]

    return read


@pytest.fixture
def security_lines() -> Callable[[], list[dict[str, Any]]]:
    """The ``logs/security.log`` lines written since the test began."""
    path = Path(django_settings.LOGGING["handlers"]["security_file"]["filename"])
    start = path.stat().st_size if path.exists() else 0

    def read() -> list[dict[str, Any]]:
        with open(path, "rb") as log:
            log.seek(start)
            return [json.loads(line) for line in log.read().decode().splitlines() if line]

    return read


class Clock:
    """``core.clock.now`` under the test's control."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.moment: datetime = clock.now()
        monkeypatch.setattr(clock, "now", lambda: self.moment)

    def set(self, moment: datetime) -> None:
        self.moment = moment


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


@pytest.fixture
def browser() -> Callable[..., Client]:
    """``browser(host, user=None)``: a Django test client that, like a browser, keeps cookies
    for one host only (make one per host), signed in with a session when ``user`` is given."""

    def make(host: str, user: Any = None) -> Client:
        client = Client(HTTP_HOST=host)
        if user is not None:
            client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return make
