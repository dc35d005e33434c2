"""Browser masquerades: a session on this host becomes the target's (start), or a one-time
ticket carries the masquerade to the target's own host (hand-off), and the real user gets its
session back (release). A start whose audit line cannot be written is rolled back and refused
(fail closed)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import login, logout
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.http.request import split_domain_port
from hijack import signals as hijack_signals

from access.masquerade.records import (
    AuditUnavailable,
    masquerade_record_close,
    masquerade_record_open,
    masquerade_start_line,
    session_fingerprint,
)
from access.masquerade.rules import masquerade_refusal
from access.masquerade.selectors import home_host, is_home_of
from access.masquerade.services import (
    HISTORY_KEY,
    MASQUERADE_KEY,
    MasqueradeDenied,
    masquerade_check,
    masquerade_deny,
    masquerade_end,
)
from access.models import MasqueradeSession
from core import clock
from core.audit import security_event
from core.exceptions import PermissionDenied
from tenancy.http import request_tenant
from users.authentication import SESSION_SCHEMA_KEY
from users.models import User
from users.reach import access_on_host
from users.roles import Access

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _digest(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


def _enter_session(request: Any, record: MasqueradeSession) -> None:
    """Turn this host's session into the masquerade: a brand-new session key (no fixation),
    hijack's history naming the real user, and an expiry of its own. The audit line is
    written with the new key before anything reaches the browser; if it cannot be, the
    database work is rolled back and the request keeps its previous session."""
    previous_store, previous_key = type(request.session), request.session.session_key
    hijacker, hijacked = record.hijacker, record.hijacked
    try:
        with transaction.atomic():
            request.masquerade_switch = True  # users.signals: not a sign-in of its own
            with hijack_signals.no_update_last_login():
                request.session.flush()
                login(request, hijacked, backend=MODEL_BACKEND)
            request.session[HISTORY_KEY] = [User._meta.pk.value_to_string(hijacker)]
            request.session[MASQUERADE_KEY] = str(record.public_id)
            request.session[SESSION_SCHEMA_KEY] = request_tenant(request).schema_name
            request.session.set_expiry(record.expires_at)
            request.session.save()
            record.session_digest = session_fingerprint(request.session.session_key) or ""
            record.save(update_fields=["session_digest"])
            masquerade_start_line(request, record, reason=record.reason or "admin_hijack")
    except AuditUnavailable:
        request.session = previous_store(session_key=previous_key)
        request.user = hijacker if is_home_of(hijacker, request) else AnonymousUser()
        raise
    request.masquerade = record
    hijack_signals.hijack_started.send(
        sender=None, request=request, hijacker=hijacker, hijacked=hijacked
    )


def _browser_record(
    *, request: Any, hijacker: User, hijacked: User, justification: str, **fields: Any
) -> MasqueradeSession:
    """Record a masquerade asked for from a browser session (already checked)."""
    return masquerade_record_open(
        request=request,
        hijacker=hijacker,
        hijacked=hijacked,
        channel=MasqueradeSession.Channel.ADMIN,
        justification=justification,
        **fields,
    )


def _check_from_browser(
    *, request: Any, hijacker: User, hijacked: User | None, justification: str
) -> User:
    """The matrix, for a browser session (its hijack history says whether it already
    masquerades); a refusal is logged and raised. Returns the target it allows."""
    return masquerade_check(
        request=request,
        hijacker=hijacker,
        hijacked=hijacked,
        already_masquerading=bool(request.session.get(HISTORY_KEY)),
        channel=MasqueradeSession.Channel.ADMIN,
        justification=justification,
    )


def masquerade_acquire(
    *, request: Any, hijacker: User, hijacked: User | None, justification: str, return_url: str
) -> tuple[MasqueradeSession, str | None]:
    """The browser's "become this user": the session switches at once when the target works on
    this host; otherwise a hand-off ticket for the target's host is issued. Returns the record
    and the ticket (None when this session switched)."""
    if access_on_host(hijacker, request_tenant(request)) is Access.NONE:
        raise PermissionDenied("Your session does not belong to this host.", code="wrong_host")
    if hijacked is not None and is_home_of(hijacked, request):
        record = masquerade_session_start(
            request=request,
            hijacker=hijacker,
            hijacked=hijacked,
            justification=justification,
            return_url=return_url,
        )
        return record, None
    return masquerade_handoff_issue(
        request=request,
        hijacker=hijacker,
        hijacked=hijacked,
        justification=justification,
        return_url=return_url,
    )


def masquerade_session_start(
    *, request: Any, hijacker: User, hijacked: User, justification: str = "", return_url: str
) -> MasqueradeSession:
    """Masquerade in this browser session, on this host (the target works here)."""
    _check_from_browser(
        request=request, hijacker=hijacker, hijacked=hijacked, justification=justification
    )
    with transaction.atomic():
        record = _browser_record(
            request=request,
            hijacker=hijacker,
            hijacked=hijacked,
            justification=justification,
            return_url=return_url,
        )
        _enter_session(request, record)
    return record


def masquerade_handoff_issue(
    *, request: Any, hijacker: User, hijacked: User | None, justification: str = "", return_url: str
) -> tuple[MasqueradeSession, str]:
    """The target works on another host, where this browser has no session (cookies are per
    host). Issue a one-time ticket, valid for seconds on that host only, that the target host
    exchanges for a fresh masquerade session."""
    target = _check_from_browser(
        request=request, hijacker=hijacker, hijacked=hijacked, justification=justification
    )
    host = home_host(target) or settings.PLATFORM_HOSTS[0]
    ticket = secrets.token_urlsafe(32)
    with transaction.atomic():
        record = _browser_record(
            request=request,
            hijacker=hijacker,
            hijacked=target,
            justification=justification,
            return_url=return_url,
            handoff_digest=_digest(ticket),
            handoff_host=host,
            handoff_expires_at=clock.now() + timedelta(seconds=settings.MASQUERADE_HANDOFF_SECONDS),
        )
        security_event(
            "masquerade_handoff_issued",
            request=request,
            actor=hijacker,
            target=target,
            tenant=target.tenant,
            subject=record,
            handoff_host=host,
        )
    return record, ticket


def _claimed_handoff(request: Any, ticket: str) -> MasqueradeSession:
    """The record a hand-off ticket names, claimed for this host exactly once, or a logged
    refusal."""
    hostname, _port = split_domain_port(request.get_host())
    now = clock.now()
    digest = _digest(ticket or "")
    claimed = MasqueradeSession.objects.filter(
        handoff_digest=digest,
        handoff_host=hostname,
        handoff_used_at__isnull=True,
        handoff_expires_at__gt=now,
        ended_at__isnull=True,
    ).update(handoff_used_at=now)
    record = (
        MasqueradeSession.objects.select_related("hijacker", "hijacked__tenant")
        .filter(handoff_digest=digest)
        .first()
    )
    if claimed != 1 or record is None:
        raise masquerade_deny(
            request=request,
            hijacker=record.hijacker if record else None,
            hijacked=record.hijacked if record else None,
            refusal="handoff_ticket_invalid_used_or_expired",
            channel=MasqueradeSession.Channel.ADMIN,
        )
    return record


def masquerade_handoff_redeem(*, request: Any, ticket: str) -> MasqueradeSession:
    """Exchange a hand-off ticket for a masquerade session on this host, exactly once."""
    record = _claimed_handoff(request, ticket)
    refusal = masquerade_refusal(
        hijacker=record.hijacker, hijacked=record.hijacked, already_masquerading=False
    )
    if refusal is not None:
        raise _refuse_handoff(request, record, end_reason="refused_at_handoff", refusal=refusal)
    try:
        _enter_session(request, record)
    except AuditUnavailable:
        _refuse_handoff(
            request, record, end_reason="audit_unavailable", refusal="audit_unavailable"
        )
        raise
    return record


def _refuse_handoff(
    request: Any, record: MasqueradeSession, *, end_reason: str, refusal: str
) -> MasqueradeDenied:
    """Close a handed-off masquerade that may not start after all, with its HIJACK_DENIED."""
    with transaction.atomic():
        masquerade_record_close(record, end_reason)
        return masquerade_deny(
            request=request,
            hijacker=record.hijacker,
            hijacked=record.hijacked,
            refusal=refusal,
            channel=record.channel,
        )


def masquerade_session_release(*, request: Any, record: MasqueradeSession, end_reason: str) -> str:
    """End the browser masquerade on this host; return where to send the browser. The real user
    gets its own session back (a new key) where it works here; elsewhere it simply leaves."""
    masquerade_end(request=request, record=record, end_reason=end_reason)
    hijacker = record.hijacker
    if is_home_of(hijacker, request) and hijacker.is_active:
        request.masquerade_switch = True  # users.signals: not a sign-in of its own
        with hijack_signals.no_update_last_login():
            request.session.flush()
            login(request, hijacker, backend=MODEL_BACKEND)
        request.session[SESSION_SCHEMA_KEY] = request_tenant(request).schema_name
    else:
        logout(request)
    request.masquerade = None
    return record.return_url or "/"
