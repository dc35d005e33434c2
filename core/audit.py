"""Security audit trail: one JSON line per event in ``logs/security.log`` (and on stdout).

Every event names the acting user and, apart from it, the affected user or object, so "who did
what to whom" never has to be inferred (Zulip's RealmAuditLog keeps them apart the same way).
"""

from __future__ import annotations

import ipaddress
import logging
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from pythonjsonlogger.json import JsonFormatter

security_logger = logging.getLogger("security")


class UTCJsonFormatter(JsonFormatter):
    """JSON lines whose ``timestamp`` is UTC ISO-8601 with a ``Z``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("reserved_attrs", [*_STD_ATTRS])
        super().__init__(*args, **kwargs)

    def add_fields(self, log_record: dict, record: logging.LogRecord, message_dict: dict) -> None:
        super().add_fields(log_record, record, message_dict)
        log_record["timestamp"] = utc_timestamp(record.created)
        log_record["level"] = record.levelname
        log_record["logger"] = record.name


_STD_ATTRS = (
    "args", "asctime", "created", "exc_info", "exc_text", "filename", "funcName", "levelname",
    "levelno", "lineno", "module", "msecs", "msg", "name", "pathname", "process", "processName",
    "relativeCreated", "stack_info", "thread", "threadName", "taskName",
)  # fmt: skip


def utc_timestamp(epoch_seconds: float | None = None) -> str:
    moment = datetime.fromtimestamp(epoch_seconds, UTC) if epoch_seconds else datetime.now(UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def client_ip(request: Any) -> str | None:
    """The address the request came from: the only one every throttle, rate limit and audit line
    uses. With ``TRUSTED_PROXY_COUNT`` = 0 it is the peer (``REMOTE_ADDR``). Behind N trusted
    proxies it is the address the outermost of them saw: the Nth entry from the right of
    ``X-Forwarded-For``, because each proxy appends the peer it saw and everything further left
    was written by the client. Too few entries or a malformed one mean the request did not come
    through the proxies as configured, so the peer is the only address known to be true."""
    if request is None:
        return None
    meta = getattr(request, "META", {})
    peer = meta.get("REMOTE_ADDR")
    hops = settings.TRUSTED_PROXY_COUNT
    if hops <= 0:
        return peer
    forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if len(forwarded) < hops:
        return peer
    try:
        return str(ipaddress.ip_address(forwarded[-hops]))
    except ValueError:
        return peer


def _describe_user(user: Any) -> dict[str, Any]:
    if user is None or not getattr(user, "is_authenticated", False):
        return {}
    return {"email": user.email, "role": user.role, "public_id": str(user.public_id)}


def security_event(
    event: str,
    *,
    request: Any = None,
    actor: Any = None,
    target: Any = None,
    level: int = logging.INFO,
    **details: Any,
) -> None:
    """Write one security audit line. ``actor`` did it; ``target`` is the user it was done to."""
    record: dict[str, Any] = {"event": event}
    actor = actor if actor is not None else getattr(request, "user", None)
    if actor_fields := _describe_user(actor):
        record["actor"] = actor_fields
    if target_fields := _describe_user(target):
        record["target"] = target_fields
    if request is not None:
        record["ip_address"] = client_ip(request)
        record["host"] = request.META.get("HTTP_HOST")
        record["path"] = request.path
        record["method"] = request.method
        tenant = getattr(request, "tenant", None)
        record["tenant"] = getattr(tenant, "schema_name", None)
        if (masquerade := getattr(request, "masquerade", None)) is not None:
            # Whatever happens in a masquerade happens in two people's names.
            record["masquerade"] = {
                "id": str(masquerade.public_id),
                "actor": _describe_user(masquerade.hijacker),
                "as": _describe_user(masquerade.hijacked),
            }
    record.update(details)
    security_logger.log(level, event, extra=record)
