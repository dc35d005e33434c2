"""Fixtures for core's tests.

AWS: a real moto server process on 127.0.0.1 (one per xdist worker), and a fixture that points
settings at it with a fresh bucket and hosted zone per test. Security: a masquerade log of each
test's own, the security log lines a test wrote, a clock the test controls, and browser-like
clients (one cookie jar per host)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from core import aws as aws_module
from core import clock

MOTO_START_TIMEOUT_SECONDS = 30


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):  # noqa: S310 -- local http
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """Start ``python -m moto.server`` on a free local port; stop it when the session ends."""
    log = tempfile.NamedTemporaryFile(prefix="moto-", suffix=".log", delete=False)  # noqa: SIM115
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(  # fixed argv: our own interpreter running moto
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + MOTO_START_TIMEOUT_SECONDS
        while not _answers(url):
            if process.poll() is not None or time.monotonic() > deadline:
                output = Path(log.name).read_text(errors="replace")
                pytest.fail(f"moto server did not start on {url}:\n{output}")
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        Path(log.name).unlink(missing_ok=True)


@dataclass(frozen=True)
class AwsWorld:
    endpoint: str
    bucket: str
    zone_id: str
    zone_name: str

    def s3_keys(self) -> list[str]:
        listing = aws_module.client("s3").list_objects_v2(Bucket=self.bucket)
        return [item["Key"] for item in listing.get("Contents", [])]


def point_settings_at(settings, endpoint: str) -> None:
    settings.AWS_ENDPOINT_URL = endpoint
    settings.AWS_S3_ENDPOINT_URL = None
    settings.AWS_ROUTE53_ENDPOINT_URL = None
    settings.AWS_ACCESS_KEY_ID = "testing"
    settings.AWS_SECRET_ACCESS_KEY = "testing"
    settings.AWS_SESSION_TOKEN = None
    settings.AWS_REGION = "us-east-1"
    settings.AWS_S3_REGION_NAME = "us-east-1"
    settings.AWS_S3_ADDRESSING_STYLE = "path"


@pytest.fixture
def aws(settings, moto_server: str) -> AwsWorld:
    """Settings pointed at the moto server: S3 media in a new bucket, Route53 in a new zone."""
    point_settings_at(settings, moto_server)
    suffix = uuid.uuid4().hex[:12]
    bucket = f"media-{suffix}"
    aws_module.client("s3").create_bucket(Bucket=bucket)
    zone_name = f"shop-{suffix}.example.com"
    zone = aws_module.client("route53").create_hosted_zone(Name=zone_name, CallerReference=suffix)
    zone_id = zone["HostedZone"]["Id"].removeprefix("/hostedzone/")
    settings.AWS_STORAGE_BUCKET_NAME = bucket
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "core.storage.TenantS3Storage"},
    }
    settings.AWS_ROUTE53_HOSTED_ZONE_ID = zone_id
    return AwsWorld(endpoint=moto_server, bucket=bucket, zone_id=zone_id, zone_name=zone_name)


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
def security_lines(db: None) -> Callable[[], list[dict[str, Any]]]:
    """The security events recorded since the test began, as the JSON lines they are mirrored
    as in ``logs/security.log`` once committed (a test's transaction never commits)."""
    from core.audit import audit_log_record
    from core.models import AuditEvent

    start = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0

    def read() -> list[dict[str, Any]]:
        rows = AuditEvent.objects.filter(id__gt=start).order_by("id")
        return [audit_log_record(row) for row in rows.select_related("actor", "target")]

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
