"""``logs/masquerade.log``: one JSON line per masquerade attempt, written or the attempt fails.

Python's logging swallows write errors (``Handler.handleError``), which is right for ordinary
logs and wrong here: a masquerade nobody can later account for must not happen. So this file is
written directly: lock, append, flush, fsync, and any ``OSError`` is raised to the caller as
``AuditUnavailable``. Rotation is by size, under a lock file shared by every process.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from pathlib import Path
from typing import Any

from django.conf import settings

from core.audit import client_ip, utc_timestamp
from core.exceptions import DomainError

HIJACK_START = "HIJACK_START"
HIJACK_END = "HIJACK_END"
HIJACK_DENIED = "HIJACK_DENIED"

_thread_lock = threading.Lock()


class AuditUnavailable(DomainError):
    status_code = 503
    default_code = "audit_unavailable"


def _rotate(path: Path, backups: int) -> None:
    for index in range(backups - 1, 0, -1):
        older = path.with_name(f"{path.name}.{index}")
        if older.exists():
            older.replace(path.with_name(f"{path.name}.{index + 1}"))
    path.replace(path.with_name(f"{path.name}.1"))


def append_line(record: dict[str, Any]) -> None:
    """Append one JSON line to the masquerade log, or raise ``AuditUnavailable``."""
    path = Path(settings.MASQUERADE_LOG_FILE)
    line = json.dumps(record, default=str, ensure_ascii=False) + "\n"
    data = line.encode("utf-8")
    try:
        with _thread_lock, open(path.with_name(path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            max_bytes = settings.MASQUERADE_LOG_MAX_BYTES
            if path.exists() and path.stat().st_size + len(data) > max_bytes > 0:
                _rotate(path, settings.MASQUERADE_LOG_BACKUP_COUNT)
            with open(path, "ab") as log:
                log.write(data)
                log.flush()
                os.fsync(log.fileno())
    except OSError as error:
        raise AuditUnavailable(
            "The masquerade audit log cannot be written, so no masquerade can start. "
            "Tell the platform operators.",
        ) from error


def _person(user: Any, prefix: str) -> dict[str, Any]:
    if user is None or not getattr(user, "is_authenticated", False):
        return {f"{prefix}_email": None, f"{prefix}_role": None, f"{prefix}_id": None}
    return {
        f"{prefix}_email": user.email,
        f"{prefix}_role": user.role,
        f"{prefix}_id": str(user.public_id),
    }


def masquerade_line(
    action: str,
    *,
    request: Any,
    hijacker: Any,
    hijacked: Any,
    reason: str,
    channel: str,
    session_key: str | None = None,
    justification: str = "",
    masquerade: Any = None,
) -> None:
    """Write one masquerade audit line; raises ``AuditUnavailable`` if it cannot be written.

    ``reason`` says why this line exists (refusal code, end cause, or the operator's stated
    reason for a start); ``justification`` is always the operator's own words, if any.
    """
    meta = getattr(request, "META", {})
    hijacked_tenant = getattr(getattr(hijacked, "tenant", None), "schema_name", None)
    record: dict[str, Any] = {
        "timestamp": utc_timestamp(),
        "action": action,
        **_person(hijacker, "hijacker"),
        **_person(hijacked, "hijacked"),
        "tenant": hijacked_tenant,
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
    append_line(record)
