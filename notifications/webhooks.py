"""Webhook calls: Standard Webhooks signatures, the SSRF guard, and sending with a timeout.

Signing follows https://www.standardwebhooks.com: the secret is ``whsec_`` + base64 of the key;
``webhook-signature`` is ``v1,`` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")).
The guard resolves the endpoint's host once and allows only public addresses (unless
``WEBHOOK_ALLOWED_PRIVATE_NETWORKS`` lists them): IPv4 that is global, IPv6 in global unicast
outside the transition prefixes (NAT64, 6to4, Teredo, IPv4-compatible/-mapped forms are refused:
they reach an IPv4 address through a gateway). It then connects to exactly the address it
checked, so a DNS answer cannot change in between.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import ipaddress
import logging
import secrets
import socket
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import urllib3
import urllib3.connection
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.audit import security_event
from notifications.delivery import (
    Fence,
    Outcome,
    SendChecks,
    delivery_record,
    monotonic_ms,
)
from notifications.events import event_record
from notifications.models import Delivery
from plugin_data.models import WebhookEndpoint

logger = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"  # noqa: S105 -- the scheme's prefix, not a secret
USER_AGENT = "SmoothSchedule-Webhooks/1.0"
RESPONSE_READ_LIMIT = 4096  # bytes of a receiver's answer that are read (and dropped)


class UnsafeTarget(Exception):
    """The URL may not be called (scheme, or an address the SSRF guard refuses)."""


def secret_generate() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def signature(*, secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(*, secret: str, message_id: str, body: bytes, now: int | None = None) -> dict:
    timestamp = int(now if now is not None else time.time())
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(
            secret=secret, message_id=message_id, timestamp=timestamp, body=body
        ),
    }


def _allowed_networks() -> list[Any]:
    return [
        ipaddress.ip_network(n, strict=False) for n in settings.WEBHOOK_ALLOWED_PRIVATE_NETWORKS
    ]


# IPv6 is allowed only inside global unicast (2000::/3), and not in the prefixes that carry an
# IPv4 address or tunnel to one: NAT64 (RFC 6052, RFC 8215), 6to4, Teredo, documentation, ORCHID.
_GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")
_TRANSITION = [
    ipaddress.ip_network(n)
    for n in ("2002::/16", "2001::/32", "2001:db8::/32", "2001:10::/28", "2001:20::/28")
]
_EMBEDS_IPV4 = [
    ipaddress.ip_network(n) for n in ("64:ff9b::/96", "64:ff9b:1::/48", "::/96", "::ffff:0:0:0/96")
]


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries (mapped, compatible, translated, 6to4, Teredo)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if any(ip in net for net in _EMBEDS_IPV4):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_is_public(address: str) -> bool:
    """An allow-list: IPv4 must be global (and not multicast); IPv6 must be global unicast
    outside the transition prefixes, and any IPv4 address it embeds is checked as IPv4."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return (
                False  # a public IPv4 target is reached by its IPv4 address, not through a gateway
            )
        if ip not in _GLOBAL_UNICAST or any(ip in net for net in _TRANSITION):
            return False
    return ip.is_global and not ip.is_multicast


UNSAFE_TARGET_MESSAGE = (
    "The URL's host must resolve to public addresses only (no private, loopback, link-local or "
    "internal targets)."
)


def url_redacted(url: str) -> str:
    """``url`` for people who may not see its path or query (they can hold credentials):
    scheme://host[:port]/..."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    tail = "/..." if parts.path not in ("", "/") or parts.query or parts.fragment else "/"
    return f"{parts.scheme}://{host}{port}{tail}"


def resolve_target(url: str) -> tuple[str, str, int, str]:
    """Check ``url`` and resolve it: (scheme, host, port, the address to connect to)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeTarget("Only http and https URLs with a host name can receive webhooks.")
    if parts.username or parts.password:
        raise UnsafeTarget("Credentials in the URL are not allowed; use the signature.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise UnsafeTarget("The URL's port is not valid.") from error
    # The message never says what a host resolves to (that would map the internal DNS); the
    # detail goes to the server log.
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        logger.warning("webhook target %r does not resolve: %s", parts.hostname, error)
        raise UnsafeTarget(UNSAFE_TARGET_MESSAGE) from error
    # str(): an AF_INET or AF_INET6 address is one already (typeshed's sockaddr allows an int).
    addresses = sorted({str(info[4][0]) for info in infos})
    allowed = _allowed_networks()
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not address_is_public(address) and not any(ip in net for net in allowed):
            logger.warning(
                "webhook target %r refused: it resolves to %s (private, loopback, link-local "
                "or internal)", parts.hostname, address,
            )  # fmt: skip
            raise UnsafeTarget(UNSAFE_TARGET_MESSAGE)
    return parts.scheme, parts.hostname, port, addresses[0]


class DeadlineExceeded(TimeoutError):
    """The receiver did not answer within ``WEBHOOK_TIMEOUT_SECONDS`` overall."""


def _abort(connection: Any) -> None:
    """Called by the watchdog at the deadline: cut the socket under the reading thread."""
    sock = getattr(connection, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the raw socket, also under TLS


def webhook_post(*, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, int]:
    """POST to ``url`` through the guard; (HTTP status, latency in ms). Raises on failure.

    The whole call (connect, send, the response's status line and headers, and at most
    ``RESPONSE_READ_LIMIT`` bytes of its body) has one deadline, ``WEBHOOK_TIMEOUT_SECONDS``: a
    watchdog closes the socket when it passes, so a receiver trickling bytes cannot hold the
    sender (a per-read timeout alone would let it)."""
    scheme, host, port, address = resolve_target(url)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    budget = settings.WEBHOOK_TIMEOUT_SECONDS
    timeout = urllib3.Timeout(connect=budget, read=budget)
    if scheme == "https":
        connection: Any = urllib3.connection.HTTPSConnection(
            address, port, timeout=timeout.connect_timeout, server_hostname=host,
            assert_hostname=host, cert_reqs="CERT_REQUIRED",
        )  # fmt: skip
    else:
        connection = urllib3.connection.HTTPConnection(
            address, port, timeout=timeout.connect_timeout
        )
    host_header = host if parts.port is None else f"{host}:{port}"
    start = time.monotonic()
    watchdog = threading.Timer(budget, _abort, args=(connection,))
    watchdog.daemon = True
    watchdog.start()
    try:
        connection.request(
            "POST", path, body=body, headers={**headers, "host": host_header},
            preload_content=False,
        )  # fmt: skip
        response = connection.getresponse()
        response.read(RESPONSE_READ_LIMIT)  # the receiver's answer is not used; a little is read
        status = response.status
    except Exception as error:
        if time.monotonic() - start >= budget:
            raise DeadlineExceeded(f"Timed out: no complete answer within {budget:g} s.") from error
        raise
    finally:
        watchdog.cancel()
        connection.close()
    if time.monotonic() - start >= budget:
        raise DeadlineExceeded(f"Timed out: no complete answer within {budget:g} s.")
    return status, monotonic_ms(start)


def webhooks_send(deliveries: list[Delivery]) -> None:
    checks, fence = SendChecks(deliveries), Fence(deliveries)
    for delivery in deliveries:
        if not fence.holds(delivery):
            continue  # another sender holds it now (our lease ran out), or it was cancelled
        refusal = checks.refusal(delivery)
        if refusal is not None:
            delivery_record(delivery, refusal)
            continue
        with tenant_context(delivery.tenant):
            outcome = _send_one(delivery)
            delivery_record(delivery, outcome)
            if not outcome.ok and outcome.endpoint_failure:
                _endpoint_failed(delivery, outcome)
            elif outcome.ok:
                _endpoint_succeeded(delivery)


def _send_one(delivery: Delivery) -> Outcome:
    endpoint = WebhookEndpoint.objects.filter(public_id=delivery.recipient).first()
    if endpoint is None:
        return Outcome(ok=False, skip=True, error="The endpoint was removed.")
    if not endpoint.enabled:
        return Outcome(ok=False, skip=True, error="The endpoint is disabled.")
    body = delivery.message["body"].encode()
    headers = signed_headers(
        secret=endpoint.secret, message_id=f"msg_{delivery.public_id.hex}", body=body
    )
    start = time.monotonic()
    try:
        status, latency = webhook_post(url=endpoint.url, body=body, headers=headers)
    except UnsafeTarget as error:
        return Outcome(ok=False, error=str(error), endpoint_failure=True)
    except Exception as error:  # timeouts, refused connections, TLS errors
        return Outcome(
            ok=False, error=f"{type(error).__name__}: {error}", latency_ms=monotonic_ms(start),
            endpoint_failure=True,
        )  # fmt: skip
    if 200 <= status < 300:
        return Outcome(ok=True, response_status=status, latency_ms=latency)
    return Outcome(
        ok=False, error=f"HTTP {status}", response_status=status, latency_ms=latency,
        endpoint_failure=True,
    )  # fmt: skip


def _endpoint_succeeded(delivery: Delivery) -> None:
    WebhookEndpoint.objects.filter(public_id=delivery.recipient, consecutive_failures__gt=0).update(
        consecutive_failures=0
    )


def _endpoint_failed(delivery: Delivery, outcome: Outcome) -> None:
    """Count the failure; at the limit, disable the endpoint (once: a conditional update) and
    tell the tenant's owners through the outbox."""
    endpoints = WebhookEndpoint.objects.filter(public_id=delivery.recipient)
    endpoints.update(consecutive_failures=F("consecutive_failures") + 1)
    limit = settings.WEBHOOK_DISABLE_AFTER_FAILURES
    with transaction.atomic():
        disabled = endpoints.filter(enabled=True, consecutive_failures__gte=limit).update(
            enabled=False, disabled_at=timezone.now(), disabled_reason=outcome.error[:200]
        )
        if not disabled:
            return
        endpoint = endpoints.get()
        security_event(
            "webhook_endpoint_disabled",
            subject=endpoint,
            tenant=delivery.tenant,
            failures=endpoint.consecutive_failures,
            reason=outcome.error[:200],
        )
        event_record(
            tenant=delivery.tenant,
            kind="job.webhook_disabled",
            plugin="webhooks",
            payload={
                "endpoint": str(endpoint.public_id),
                "url": url_redacted(endpoint.url),
                "failures": endpoint.consecutive_failures,
                "reason": outcome.error[:200],
            },
        )
