"""Masquerade records and their audit. A masquerade is a ``MasqueradeSession`` row (opened at the
start, closed at the end; it keeps only a fingerprint of the session key or token id), and every
attempt is an ``AuditEvent`` row (HIJACK_START, HIJACK_END, HIJACK_DENIED) and one JSON line in
``logs/masquerade.log`` in the seed's format.

Python's logging swallows write errors (``Handler.handleError``), which is right for ordinary
logs and wrong here, so the file is written directly: lock, append, flush, fsync. What a failed
write means depends on the direction:

* HIJACK_START fails closed: no line, no masquerade (``AuditUnavailable``, the caller's
  transaction rolls back, the row with it).
* HIJACK_END and HIJACK_DENIED never fail: ending a masquerade and refusing one are the safe
  directions. Their row is in the table whatever happens; a line the file would not take waits in
  ``MasqueradeLogBacklog`` and is appended, oldest first, before the next line any process writes
  and by the periodic ``core.tasks.replay_masquerade_log``.

A line is always rendered from its row, so a replayed line is the line that would have been
written. Rotation is by size, under a lock file shared by every process.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from access.models import MasqueradeSession
from core import clock
from core.audit import client_ip, security_event
from core.exceptions import DomainError
from core.log_format import iso_utc
from core.models import AuditEvent, MasqueradeLogBacklog
from users.models import User

HIJACK_START = "HIJACK_START"
HIJACK_END = "HIJACK_END"
HIJACK_DENIED = "HIJACK_DENIED"

# The line's fields after ``timestamp`` and ``action``, in the order they are written. Each is
# the event's detail of the same name, but for ``tenant`` (the hijacked user's), kept as
# ``hijacked_tenant`` beside the event's own tenant.
LINE_FIELDS = (
    "hijacker_email", "hijacker_role", "hijacker_id", "hijacked_email", "hijacked_role",
    "hijacked_id", "tenant", "host_tenant", "host", "ip_address", "user_agent", "session_key",
    "channel", "reason", "justification", "masquerade_id",
)  # fmt: skip
_DETAIL_OF_FIELD = {"tenant": "hijacked_tenant"}

_thread_lock = threading.Lock()
# Changing it changes every fingerprint; migration 0005's data step uses the same one.
FINGERPRINT_SALT = "core.masquerade.session_fingerprint"


class AuditUnavailable(DomainError):
    status_code = 503
    default_code = "audit_unavailable"


def _rotate(path: Path, backups: int) -> None:
    for index in range(backups - 1, 0, -1):
        older = path.with_name(f"{path.name}.{index}")
        if older.exists():
            older.replace(path.with_name(f"{path.name}.{index + 1}"))
    path.replace(path.with_name(f"{path.name}.1"))


def _append(records: list[dict[str, Any]]) -> None:
    """Append JSON lines to the masquerade log, durably, or raise ``OSError``."""
    path = Path(settings.MASQUERADE_LOG_FILE)
    data = "".join(json.dumps(r, default=str, ensure_ascii=False) + "\n" for r in records)
    encoded = data.encode("utf-8")
    with _thread_lock, open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        max_bytes = settings.MASQUERADE_LOG_MAX_BYTES
        if path.exists() and path.stat().st_size + len(encoded) > max_bytes > 0:
            _rotate(path, settings.MASQUERADE_LOG_BACKUP_COUNT)
        with open(path, "ab") as log:
            log.write(encoded)
            log.flush()
            os.fsync(log.fileno())


def _unavailable() -> AuditUnavailable:
    return AuditUnavailable(
        "The masquerade audit log cannot be written, so no masquerade can start. "
        "Tell the platform operators."
    )


def masquerade_log_line(event: AuditEvent) -> dict[str, Any]:
    """The ``masquerade.log`` line of a masquerade event (the seed's format, plus context)."""
    return {
        "timestamp": iso_utc(event.occurred_at),
        "action": event.action,
        **{field: event.details.get(_DETAIL_OF_FIELD.get(field, field)) for field in LINE_FIELDS},
    }


def _person(user: User | AnonymousUser | None, prefix: str) -> dict[str, Any]:
    if not isinstance(user, User):  # nobody, or the anonymous user
        return {f"{prefix}_email": None, f"{prefix}_role": None, f"{prefix}_id": None}
    return {
        f"{prefix}_email": user.email,
        f"{prefix}_role": user.role,
        f"{prefix}_id": str(user.public_id),
    }


def _pending_backlog() -> list[MasqueradeLogBacklog]:
    """Lines still waiting for the file, oldest first, locked for this transaction (another
    process replaying at the same time takes the others)."""
    return list(
        MasqueradeLogBacklog.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("event")
        .order_by("event__occurred_at", "event_id")
    )


def _write_with_backlog(event: AuditEvent) -> None:
    """Append the waiting lines, then this event's, in one locked write; the waiting ones leave
    the backlog only once written. Raises ``OSError`` when the file will not take them."""
    pending = _pending_backlog()
    _append([*(masquerade_log_line(p.event) for p in pending), masquerade_log_line(event)])
    if pending:
        MasqueradeLogBacklog.objects.filter(pk__in=[p.pk for p in pending]).delete()


def masquerade_line(
    action: str,
    *,
    request: Any,
    hijacker: User | AnonymousUser | None,
    hijacked: User | None,
    reason: str,
    channel: str,
    session_key: str | None = None,
    justification: str = "",
    masquerade: MasqueradeSession | None = None,
) -> AuditEvent:
    """Record a masquerade event and write its line. Only HIJACK_START raises
    (``AuditUnavailable``) when the line cannot be written; see the module's docstring.

    ``reason`` says why this event exists (refusal code, end cause, or the operator's stated
    reason for a start); ``justification`` is always the operator's own words, if any.
    """
    meta = getattr(request, "META", {})
    hijacked_tenant = getattr(hijacked, "tenant", None) if hijacked is not None else None
    fields: dict[str, Any] = {
        **_person(hijacker, "hijacker"),
        **_person(hijacked, "hijacked"),
        "hijacked_tenant": getattr(hijacked_tenant, "schema_name", None),
        "host_tenant": getattr(getattr(request, "tenant", None), "schema_name", None),
        "host": meta.get("HTTP_HOST"),
        "ip_address": client_ip(request),
        "user_agent": meta.get("HTTP_USER_AGENT", ""),
        "session_key": session_key,
        "channel": channel,
        "reason": reason,
        "justification": justification,
        "masquerade_id": str(masquerade.public_id) if masquerade is not None else None,
    }
    with transaction.atomic():
        event = security_event(
            action,
            request=request,
            actor=hijacker,
            target=hijacked,
            tenant=hijacked_tenant,
            masquerade=masquerade,
            **fields,
        )
        try:
            _write_with_backlog(event)
        except OSError as error:
            if action == HIJACK_START:
                raise _unavailable() from error
            MasqueradeLogBacklog.objects.create(
                event=event, failed_at=timezone.now(), error=str(error)[:300]
            )
    return event


def masquerade_log_replay() -> int:
    """Append every line still waiting for the file; return how many were written. Raises
    ``AuditUnavailable`` (and keeps them waiting) while the file is still unwritable."""
    with transaction.atomic():
        pending = _pending_backlog()
        if not pending:
            return 0
        try:
            _append([masquerade_log_line(p.event) for p in pending])
        except OSError as error:
            raise _unavailable() from error
        MasqueradeLogBacklog.objects.filter(pk__in=[p.pk for p in pending]).delete()
    return len(pending)


def session_fingerprint(session_key: str | None) -> str | None:
    """What the masquerade record and ``masquerade.log`` keep of a session key (or of an API
    token's ``jti``): an HMAC-SHA256 under a key derived from SECRET_KEY. Equal keys give equal
    fingerprints, so lines of one session can be matched, but a fingerprint opens nothing: put
    into a ``sessionid`` cookie it is just an unknown key."""
    if not session_key:
        return None
    return salted_hmac(FINGERPRINT_SALT, session_key, algorithm="sha256").hexdigest()


def request_fingerprint(request: Any) -> str | None:
    """The fingerprint of the request's session key, None without a session."""
    session = getattr(request, "session", None)
    return session_fingerprint(session.session_key) if session is not None else None


def masquerade_record_open(
    *,
    request: Any,
    hijacker: User,
    hijacked: User,
    channel: str,
    justification: str,
    **fields: Any,
) -> MasqueradeSession:
    """The record of a masquerade starting now, live for ``MASQUERADE_MAX_MINUTES``."""
    now = clock.now()
    return MasqueradeSession.objects.create(
        hijacker=hijacker,
        hijacked=hijacked,
        tenant_id=hijacked.tenant_id,
        channel=channel,
        reason=justification,
        ip_address=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
        started_at=now,
        expires_at=now + timedelta(minutes=settings.MASQUERADE_MAX_MINUTES),
        **fields,
    )


def masquerade_record_line(
    action: str, request: Any, record: MasqueradeSession, *, reason: str, session_digest: str | None
) -> None:
    """The masquerade.log line of an existing masquerade; raises ``AuditUnavailable`` when it
    cannot be written."""
    masquerade_line(
        action,
        request=request,
        hijacker=record.hijacker,
        hijacked=record.hijacked,
        reason=reason,
        channel=record.channel,
        session_key=session_digest,
        justification=record.reason,
        masquerade=record,
    )


def masquerade_start_line(request: Any, record: MasqueradeSession, *, reason: str) -> None:
    """The HIJACK_START line; raising means the start is rolled back."""
    masquerade_record_line(
        HIJACK_START, request, record, reason=reason, session_digest=record.session_digest
    )


def masquerade_record_close(record: MasqueradeSession, end_reason: str) -> None:
    record.ended_at = clock.now()
    record.end_reason = end_reason
    record.save(update_fields=["ended_at", "end_reason"])
