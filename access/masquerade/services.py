"""Masquerade writes both channels share (browser sessions: ``sessions``; API tokens:
``tokens``): refusing a masquerade and ending one. A refusal and an end are the safe directions:
they happen even when their audit line cannot be written yet (``records``)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from hijack import signals as hijack_signals

from access.masquerade.records import (
    HIJACK_DENIED,
    HIJACK_END,
    masquerade_line,
    masquerade_record_close,
    masquerade_record_line,
    request_fingerprint,
)
from access.masquerade.rules import Refusal, masquerade_refusal
from access.models import MasqueradeSession
from core.exceptions import PermissionDenied
from users.models import User

HISTORY_KEY = "hijack_history"  # django-hijack's own session key
MASQUERADE_KEY = "_masquerade_id"


class MasqueradeDenied(PermissionDenied):
    default_code = "masquerade_denied"


def masquerade_deny(
    *,
    request: Any,
    hijacker: User | AnonymousUser | None,
    hijacked: User | None,
    refusal: str,
    channel: str,
    justification: str = "",
    session_digest: str | None = None,
) -> MasqueradeDenied:
    """Record a refusal and return the error to raise. The refusal stands even when its line
    cannot be written yet (access.masquerade.audit keeps it for the file)."""
    masquerade_line(
        HIJACK_DENIED,
        request=request,
        hijacker=hijacker,
        hijacked=hijacked,
        reason=str(refusal),
        channel=channel,
        session_key=session_digest,
        justification=justification,
    )
    return MasqueradeDenied(f"Masquerade refused: {refusal}.", fields={"reason": [str(refusal)]})


def masquerade_check(
    *,
    request: Any,
    hijacker: User | AnonymousUser | None,
    hijacked: User | None,
    already_masquerading: bool,
    channel: str,
    justification: str = "",
) -> User:
    """Return ``hijacked`` if the matrix lets ``hijacker`` become it now; else raise (after
    logging HIJACK_DENIED)."""
    refusal = masquerade_refusal(
        hijacker=hijacker, hijacked=hijacked, already_masquerading=already_masquerading
    )
    if refusal is None and hijacked is not None:
        return hijacked
    raise masquerade_deny(
        request=request,
        hijacker=hijacker,
        hijacked=hijacked,
        refusal=refusal or Refusal.NO_TARGET,
        channel=channel,
        justification=justification,
        session_digest=request_fingerprint(request),
    )


def masquerade_end(*, request: Any, record: MasqueradeSession, end_reason: str) -> None:
    """End a masquerade and record its HIJACK_END. Ending always happens: it is the safe
    direction, so a line the file will not take yet is kept and written later."""
    fingerprint = None
    if hasattr(request, "session") and request.session.get(MASQUERADE_KEY):
        fingerprint = request_fingerprint(request)
    with transaction.atomic():
        if record.ended_at is None:
            masquerade_record_close(record, end_reason)
        masquerade_record_line(
            HIJACK_END,
            request,
            record,
            reason=end_reason,
            session_digest=fingerprint or record.session_digest,
        )
    hijack_signals.hijack_ended.send(
        sender=None, request=request, hijacker=record.hijacker, hijacked=record.hijacked
    )


def masquerades_end_on_password_change(*, user: User, request: Any, **kwargs: Any) -> None:
    """Receiver of ``users.signals.password_changed``: the masquerades ``user`` started end with
    its old password, in the same transaction."""
    live = MasqueradeSession.objects.select_related("hijacker", "hijacked").filter(
        hijacker=user, ended_at__isnull=True
    )
    for record in live:
        masquerade_end(request=request, record=record, end_reason="password_changed")
