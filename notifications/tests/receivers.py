"""Real local servers the outbox's tests deliver to: an ``aiosmtpd`` SMTP server and an HTTP
webhook receiver that checks every signature with the independent ``standardwebhooks``
package. Both listen on 127.0.0.1, on a free port."""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from standardwebhooks import Webhook


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Collect:
    def __init__(self, inbox: list[Message], slow_seconds: float) -> None:
        self.inbox = inbox
        self.slow_seconds = slow_seconds

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.slow_seconds:  # a busy server: a sender's batch takes a while
            await asyncio.sleep(self.slow_seconds)
        self.inbox.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@dataclass
class SmtpSink:
    port: int
    slow_seconds: float = 0.0
    inbox: list[Message] = field(default_factory=list)
    controller: Controller | None = None

    def start(self) -> None:
        handler = _Collect(self.inbox, self.slow_seconds)
        self.controller = Controller(handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def message_ids(self) -> list[str]:
        return [m["Message-ID"] for m in self.inbox]


@contextmanager
def smtp_sink(
    port: int | None = None, *, started: bool = True, slow_seconds: float = 0.0
) -> Iterator[SmtpSink]:
    sink = SmtpSink(port=port or free_port(), slow_seconds=slow_seconds)
    if started:
        sink.start()
    try:
        yield sink
    finally:
        sink.stop()


def point_email_at(settings: Any, port: int) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5


@dataclass
class WebhookReceiver:
    """Answers with ``statuses`` in turn (then the last one forever); keeps what it received
    and, for each, whether the signature verified."""

    secret: str = ""
    statuses: list[int] = field(default_factory=lambda: [200])
    received: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def accepted(self) -> list[dict[str, Any]]:
        return [r for r in self.received if r["status"] < 300]


@contextmanager
def webhook_receiver(statuses: list[int] | None = None) -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(statuses=list(statuses or [200]))
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                payload = Webhook(receiver.secret).verify(body, headers)
                verified = True
            except Exception:
                payload, verified = None, False
            with lock:
                status = receiver.statuses[min(len(receiver.received), len(receiver.statuses) - 1)]
                receiver.received.append(
                    {"id": headers.get("webhook-id"), "verified": verified, "payload": payload,
                     "status": status, "headers": headers}
                )  # fmt: skip
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.port, receiver.server = server.server_address[1], server
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
