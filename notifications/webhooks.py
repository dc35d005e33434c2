"""Webhook calls: Standard Webhooks signatures, the SSRF guard, and sending with a timeout.

Signing follows https://www.standardwebhooks.com: the secret is ``whsec_`` + base64 of the key;
``webhook-signature`` is ``v1,`` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")).
The guard resolves the endpoint's host once, refuses private, loopback, link-local, multicast,
reserved and unspecified addresses (unless ``WEBHOOK_ALLOWED_PRIVATE_NETWORKS`` lists them) and
then connects to exactly the address it checked, so a DNS answer cannot change in between.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import urllib3
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.audit import security_event
from notifications.delivery import Outcome, delivery_record, monotonic_ms
from notifications.models import Delivery

SECRET_PREFIX = "whsec_"  # noqa: S105 -- the scheme's prefix, not a secret
USER_AGENT = "SmoothSchedule-Webhooks/1.0"


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


def address_is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


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
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise UnsafeTarget(f"The host '{parts.hostname}' does not resolve.") from error
    addresses = sorted({info[4][0] for info in infos})
    allowed = _allowed_networks()
    for address in addresses:
        ip = ipaddress.ip_address(address)
        if not address_is_public(address) and not any(ip in net for net in allowed):
            raise UnsafeTarget(
                f"'{parts.hostname}' resolves to {address}, a private, loopback or link-local "
                "address; webhooks go to public addresses only."
            )
    return parts.scheme, parts.hostname, port, addresses[0]


def webhook_post(*, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, int]:
    """POST to ``url`` through the guard; (HTTP status, latency in ms). Raises on failure."""
    scheme, host, port, address = resolve_target(url)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    timeout = urllib3.Timeout(total=settings.WEBHOOK_TIMEOUT_SECONDS)
    if scheme == "https":
        pool: urllib3.HTTPConnectionPool = urllib3.HTTPSConnectionPool(
            address, port, timeout=timeout, retries=False, server_hostname=host,
            assert_hostname=host, cert_reqs="CERT_REQUIRED",
        )  # fmt: skip
    else:
        pool = urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False)
    host_header = host if parts.port is None else f"{host}:{port}"
    start = time.monotonic()
    try:
        response = pool.urlopen(
            "POST", path, body=body, headers={**headers, "host": host_header},
            redirect=False, preload_content=True,
        )  # fmt: skip
    finally:
        pool.close()
    return response.status, monotonic_ms(start)


def webhooks_send(deliveries: list[Delivery]) -> None:
    for delivery in deliveries:
        with tenant_context(delivery.tenant):
            outcome = _send_one(delivery)
            delivery_record(delivery, outcome)
            if not outcome.ok and outcome.endpoint_failure:
                _endpoint_failed(delivery, outcome)
            elif outcome.ok:
                _endpoint_succeeded(delivery)


def _send_one(delivery: Delivery) -> Outcome:
    from plugin_data.models import WebhookEndpoint

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
    from plugin_data.models import WebhookEndpoint

    WebhookEndpoint.objects.filter(public_id=delivery.recipient, consecutive_failures__gt=0).update(
        consecutive_failures=0
    )


def _endpoint_failed(delivery: Delivery, outcome: Outcome) -> None:
    """Count the failure; at the limit, disable the endpoint (once: a conditional update) and
    tell the tenant's owners through the outbox."""
    from notifications.events import event_record
    from plugin_data.models import WebhookEndpoint

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
                "url": endpoint.url,
                "failures": endpoint.consecutive_failures,
                "reason": outcome.error[:200],
            },
        )
