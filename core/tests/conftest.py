"""Fixtures for core's tests.

AWS: a real moto server process on 127.0.0.1 (one per xdist worker), and a fixture that points
settings at it with a fresh bucket and hosted zone per test; an endpoint that never answers (a hung
AWS). DNS: a real DNS server on 127.0.0.1 serving the records a test publishes, and a port that
never answers. Security: a masquerade log of each
test's own, the security log lines a test wrote, a clock the test controls, and browser-like
clients (one cookie jar per host)."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from django.test import Client
from dnslib import CNAME, QTYPE, RCODE, RR, TXT, DNSRecord
from dnslib.server import BaseResolver, DNSLogger, DNSServer

from config.celery import app as celery_app
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


class LocalDnsZone(BaseResolver):
    """A DNS server's answers: the CNAME and TXT records a test publishes, NXDOMAIN otherwise."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], list[str]] = {}

    def publish(self, name: str, rtype: str, value: str) -> None:
        self.records.setdefault((name.rstrip(".").lower(), rtype), []).append(value)

    def withdraw(self, name: str, rtype: str) -> None:
        self.records.pop((name.rstrip(".").lower(), rtype), None)

    def resolve(self, request: DNSRecord, handler: Any) -> DNSRecord:
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        rtype = QTYPE[request.q.qtype]
        for value in self.records.get((name, rtype), []):
            rdata = CNAME(value) if rtype == "CNAME" else TXT(value)
            reply.add_answer(RR(request.q.qname, request.q.qtype, rdata=rdata, ttl=60))
        if not any(known == name for known, _ in self.records):
            reply.header.rcode = RCODE.NXDOMAIN
        return reply


@pytest.fixture(scope="session")
def dns_server() -> Iterator[tuple[LocalDnsZone, int]]:
    """A real DNS server (dnslib, UDP) on a free port of 127.0.0.1, for the whole session."""
    zone = LocalDnsZone()
    server = DNSServer(zone, port=0, address="127.0.0.1", logger=DNSLogger(log="-request,-reply"))
    server.start_thread()
    try:
        yield zone, server.server.server_address[1]
    finally:
        server.stop()


@pytest.fixture
def dns(settings, dns_server: tuple[LocalDnsZone, int]) -> Iterator[LocalDnsZone]:
    """Verification resolves through the local DNS server, which starts each test empty."""
    zone, port = dns_server
    zone.records.clear()
    settings.CUSTOM_DOMAIN_DNS_RESOLVERS = ["127.0.0.1"]
    settings.CUSTOM_DOMAIN_DNS_PORT = port
    yield zone
    zone.records.clear()


@pytest.fixture
def silent_dns(settings) -> Iterator[None]:
    """Verification asks a UDP port that takes queries and never answers them."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sink:
        sink.bind(("127.0.0.1", 0))
        settings.CUSTOM_DOMAIN_DNS_RESOLVERS = ["127.0.0.1"]
        settings.CUSTOM_DOMAIN_DNS_PORT = sink.getsockname()[1]
        yield


@dataclass
class HungEndpoint:
    """An HTTP endpoint that accepts connections and never answers: a hung AWS. Each attempt a
    client makes is one connection, so ``attempts`` counts them whatever the machine's load."""

    url: str
    connections: list[socket.socket]

    @property
    def attempts(self) -> int:
        return len(self.connections)


@pytest.fixture
def hung_endpoint() -> Iterator[HungEndpoint]:
    listener = socket.create_server(("127.0.0.1", 0), backlog=64)
    endpoint = HungEndpoint(url=f"http://127.0.0.1:{listener.getsockname()[1]}", connections=[])
    stop = threading.Event()

    def hold() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                endpoint.connections.append(listener.accept()[0])
            except TimeoutError:
                continue

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    try:
        yield endpoint
    finally:
        stop.set()
        holder.join()
        for connection in endpoint.connections:
            connection.close()
        listener.close()


@pytest.fixture
def task_queue() -> Iterator[Callable[[], list[tuple[str, Any]]]]:
    """Tasks sent during the test go to a real Redis queue of the test's own (the Redis server is
    shared with parallel test runs); returns a reader of the (task name, args) sent there."""
    queue = f"test-{uuid.uuid4().hex}"
    default_queue = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    broker = redis.Redis.from_url(celery_app.conf.broker_url)

    def sent() -> list[tuple[str, Any]]:
        messages = [json.loads(raw) for raw in broker.lrange(queue, 0, -1)]
        return [
            (message["headers"]["task"], json.loads(base64.b64decode(message["body"]))[0])
            for message in messages
        ]

    try:
        yield sent
    finally:
        celery_app.conf.task_default_queue = default_queue
        broker.delete(queue)
        broker.close()
