"""Security audit trail: one ``core.AuditEvent`` row per event, written in the caller's
transaction, and a JSON line in ``logs/security.log`` (and on stdout) once that transaction
commits.

The row is the record. It is written where the change is written, so a change that rolls back
leaves no row, and a row that cannot be written fails the change with it (the exception is never
swallowed). The JSON line is a mirror for log pipelines: it appears only for what was committed.

Every event names the acting user and, apart from it, the affected user or object, so "who did
what to whom" never has to be inferred (Zulip's RealmAuditLog keeps them apart the same way).
While a request runs in a masquerade, every event also names the real person behind the actor.
"""

from __future__ import annotations

import ipaddress
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import connection, transaction
from django.utils import timezone

from core.log_format import STD_LOG_RECORD_ATTRS, iso_utc
from core.models import AuditEvent

security_logger = logging.getLogger("security")

# The request being served, for events written by code the request does not reach directly
# (services called without ``request=``, signal receivers): their rows still say where they came
# from and, in a masquerade, who is really acting. Set by core.middleware for each request.
_current_request: ContextVar[Any] = ContextVar("audit_current_request", default=None)


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


@contextmanager
def request_context(request: Any) -> Iterator[None]:
    """Events written while this block runs belong to ``request`` unless they name another."""
    token = _current_request.set(request)
    try:
        yield
    finally:
        _current_request.reset(token)


def _http_request(request: Any) -> Any:
    """The Django request behind a DRF one: where authentication leaves the user and the
    masquerade, and where one request id is kept for every event of the request."""
    return getattr(request, "_request", request)


def _request_id(http: Any) -> uuid.UUID:
    if getattr(http, "audit_request_id", None) is None:
        http.audit_request_id = uuid.uuid4()
    return http.audit_request_id


def _person(user: Any) -> Any:
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def _tenant_of(http: Any, explicit: Any) -> Any:
    """The business the event belongs to: the one named, else the host's, else the schema the
    connection is on (services run outside requests too); None for the platform."""
    candidate = explicit
    if candidate is None and http is not None:
        candidate = getattr(http, "tenant", None)
    if candidate is None:
        candidate = getattr(connection, "tenant", None)
    if candidate is None or candidate.schema_name == settings.PUBLIC_SCHEMA_NAME:
        return None
    return candidate


def _subject_of(subject: Any) -> tuple[str, str]:
    if subject is None:
        return "", ""
    key = getattr(subject, "public_id", None) or subject.pk
    return subject._meta.label_lower, str(key)


def security_event(
    event: str,
    *,
    request: Any = None,
    actor: Any = None,
    target: Any = None,
    level: int = logging.INFO,
    subject: Any = None,
    tenant: Any = None,
    masquerade: Any = None,
    **details: Any,
) -> AuditEvent:
    """Record one audit event in the current transaction; mirror it to the security log on
    commit. ``actor`` did it (default: the request's user); ``target`` is the user it was done
    to; ``subject`` the record it was done to; ``tenant`` the business (default: the host's, or
    the connection's schema); ``masquerade`` the masquerade it belongs to (default: the
    request's). Raises whatever the database raises: a write whose audit row cannot be written
    must not happen."""
    http = _http_request(request if request is not None else _current_request.get())
    actor = _person(actor if actor is not None else getattr(http, "user", None))
    target = _person(target)
    masquerade = masquerade if masquerade is not None else getattr(http, "masquerade", None)
    operator = masquerade.hijacker if masquerade is not None else None
    business = _tenant_of(http, tenant)
    object_type, object_id = _subject_of(subject)
    meta = getattr(http, "META", {})

    row = AuditEvent.objects.create(
        occurred_at=timezone.now(),
        action=event,
        level=logging.getLevelName(level),
        actor=actor,
        actor_email=actor.email if actor else "",
        actor_role=actor.role if actor else "",
        target=target,
        target_email=target.email if target else "",
        operator=operator,
        operator_email=operator.email if operator else "",
        masquerade_id=masquerade.public_id if masquerade is not None else None,
        tenant_id=getattr(business, "pk", None),
        tenant_schema=business.schema_name if business is not None else "",
        object_type=object_type,
        object_id=object_id,
        ip_address=client_ip(http),
        host=_storable(meta.get("HTTP_HOST", ""))[:253],
        request_id=_request_id(http) if http is not None else None,
        request_method=getattr(http, "method", "") or "",
        request_path=_storable(getattr(http, "path", "") or ""),
        details=_storable(details),
    )

    def mirror() -> None:
        _mirror(row, level)

    transaction.on_commit(mirror, robust=True)
    return row


def _user_fields(row: AuditEvent, link: str) -> dict[str, Any]:
    """A user named by the event, from the row: its snapshot, plus its public id while the
    account exists (the row outlives it)."""
    if getattr(row, f"{link}_id") is None:
        return {}
    fields: dict[str, Any] = {"email": getattr(row, f"{link}_email")}
    if link == "actor":
        fields["role"] = row.actor_role
    try:
        user = getattr(row, link)
    except ObjectDoesNotExist:
        return fields
    return {**fields, "role": user.role, "public_id": str(user.public_id)}


def audit_log_record(row: AuditEvent) -> dict[str, Any]:
    """The JSON line an audit row is mirrored as (``logs/security.log``)."""
    record: dict[str, Any] = {
        "event": row.action,
        "event_id": str(row.public_id),
        "timestamp": iso_utc(row.occurred_at),
    }
    if actor := _user_fields(row, "actor"):
        record["actor"] = actor
    if target := _user_fields(row, "target"):
        record["target"] = target
    if row.object_type:
        record["object"] = {"type": row.object_type, "id": row.object_id}
    if row.request_id is not None:
        record.update(
            ip_address=row.ip_address,
            host=row.host,
            path=row.request_path,
            method=row.request_method,
            request_id=str(row.request_id),
        )
    record["tenant"] = row.tenant_schema or None
    if row.masquerade_id is not None:
        # Whatever happens in a masquerade happens in two people's names: the operator, and the
        # user it acts as (the target when the operator is the actor, as in its own events).
        acting_as = target if row.actor_id == row.operator_id else actor
        record["masquerade"] = {
            "id": str(row.masquerade_id),
            "actor": _user_fields(row, "operator"),
            "as": acting_as,
        }
    record.update(row.details)
    return record


# Keys ``logging`` keeps for itself: a detail of that name travels under "details" instead.
_LOG_RECORD_KEYS = frozenset({*STD_LOG_RECORD_ATTRS, "message"})


def _mirror(row: AuditEvent, level: int) -> None:
    record = audit_log_record(row)
    clashing = {key: record.pop(key) for key in _LOG_RECORD_KEYS & record.keys()}
    if clashing:
        record["details"] = clashing
    security_logger.log(level, row.action, extra=record)


def _storable(value: Any) -> Any:
    """``value`` without the NUL characters PostgreSQL cannot store (text or jsonb): an event
    about hostile input must still be recordable."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_storable(key): _storable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(item) for item in value]
    return value
