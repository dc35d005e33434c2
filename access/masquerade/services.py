"""Masquerade writes: start, hand over, end, refuse. Each writes its audit line first-class: a
start whose line cannot be written is rolled back and refused (fail closed)."""

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
from django.utils.crypto import salted_hmac
from hijack import signals as hijack_signals
from rest_framework_simplejwt.tokens import AccessToken

from access.masquerade.records import (
    HIJACK_DENIED,
    HIJACK_END,
    HIJACK_START,
    AuditUnavailable,
    masquerade_line,
)
from access.masquerade.rules import masquerade_refusal
from access.models import MasqueradeSession
from core import clock
from core.audit import client_ip, security_event
from core.exceptions import Conflict, NotFound, PermissionDenied
from tenancy.selectors import is_platform, tenant_primary_host
from users.authentication import SESSION_SCHEMA_KEY, TENANT_CLAIM
from users.models import User

HISTORY_KEY = "hijack_history"  # django-hijack's own session key
MASQUERADE_KEY = "_masquerade_id"
ACTOR_CLAIM = "act"  # RFC 8693 (OAuth 2.0 token exchange): who is really acting
MASQUERADE_CLAIM = "msq"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
# Changing it changes every fingerprint; migration 0005's data step uses the same one.
FINGERPRINT_SALT = "core.masquerade.session_fingerprint"


class MasqueradeDenied(PermissionDenied):
    default_code = "masquerade_denied"


def _limit() -> timedelta:
    return timedelta(minutes=settings.MASQUERADE_MAX_MINUTES)


def _digest(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


def session_fingerprint(session_key: str | None) -> str | None:
    """What the masquerade record and ``masquerade.log`` keep of a session key (or of an API
    token's ``jti``): an HMAC-SHA256 under a key derived from SECRET_KEY. Equal keys give equal
    fingerprints, so lines of one session can be matched, but a fingerprint opens nothing: put
    into a ``sessionid`` cookie it is just an unknown key."""
    if not session_key:
        return None
    return salted_hmac(FINGERPRINT_SALT, session_key, algorithm="sha256").hexdigest()


def _session_fingerprint_of(request: Any) -> str | None:
    session = getattr(request, "session", None)
    return session_fingerprint(session.session_key) if session is not None else None


def home_host(user: User) -> str | None:
    """The host where ``user`` works: its tenant's primary host, None for platform users."""
    if user.tenant_id is None:
        return None
    host = tenant_primary_host(user.tenant)
    if host is None:
        raise Conflict(f"{user.tenant.name} has no primary host to work on.")
    return host


def is_home_of(user: User, request: Any) -> bool:
    if user.tenant_id is None:
        return is_platform(request.tenant)
    return not is_platform(request.tenant) and request.tenant.pk == user.tenant_id


def masquerade_deny(
    *,
    request: Any,
    hijacker: Any,
    hijacked: Any,
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
    hijacker: Any,
    hijacked: Any,
    already_masquerading: bool,
    channel: str,
    justification: str = "",
) -> None:
    """Raise (after logging HIJACK_DENIED) unless the matrix lets ``hijacker`` become
    ``hijacked`` now."""
    refusal = masquerade_refusal(
        hijacker=hijacker, hijacked=hijacked, already_masquerading=already_masquerading
    )
    if refusal is not None:
        raise masquerade_deny(
            request=request,
            hijacker=hijacker,
            hijacked=hijacked,
            refusal=refusal,
            channel=channel,
            justification=justification,
            session_digest=_session_fingerprint_of(request),
        )


def _new_record(
    *, request: Any, hijacker: User, hijacked: User, channel: str, justification: str, **fields
) -> MasqueradeSession:
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
        expires_at=now + _limit(),
        **fields,
    )


def _record_line(
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


def _audit_start(request: Any, record: MasqueradeSession, *, reason: str) -> None:
    """The HIJACK_START line; raising means the start is rolled back."""
    _record_line(HIJACK_START, request, record, reason=reason, session_digest=record.session_digest)


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
            request.session[SESSION_SCHEMA_KEY] = request.tenant.schema_name
            request.session.set_expiry(record.expires_at)
            request.session.save()
            record.session_digest = session_fingerprint(request.session.session_key)
            record.save(update_fields=["session_digest"])
            _audit_start(request, record, reason=record.reason or "admin_hijack")
    except AuditUnavailable:
        request.session = previous_store(session_key=previous_key)
        request.user = hijacker if is_home_of(hijacker, request) else _anonymous()
        raise
    request.masquerade = record
    hijack_signals.hijack_started.send(
        sender=None, request=request, hijacker=hijacker, hijacked=hijacked
    )


def _anonymous() -> Any:
    return AnonymousUser()


def _browser_record(
    *, request: Any, hijacker: User, hijacked: User, justification: str, **fields: Any
) -> MasqueradeSession:
    """Record a masquerade asked for from a browser session (already checked)."""
    return _new_record(
        request=request,
        hijacker=hijacker,
        hijacked=hijacked,
        channel=MasqueradeSession.Channel.ADMIN,
        justification=justification,
        **fields,
    )


def _check_from_browser(*, request: Any, hijacker: Any, hijacked: Any, justification: str) -> None:
    """The matrix, for a browser session (its hijack history says whether it already
    masquerades); a refusal is logged and raised."""
    masquerade_check(
        request=request,
        hijacker=hijacker,
        hijacked=hijacked,
        already_masquerading=bool(request.session.get(HISTORY_KEY)),
        channel=MasqueradeSession.Channel.ADMIN,
        justification=justification,
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
    *, request: Any, hijacker: User, hijacked: User, justification: str = "", return_url: str
) -> tuple[MasqueradeSession, str]:
    """The target works on another host, where this browser has no session (cookies are per
    host). Issue a one-time ticket, valid for seconds on that host only, that the target host
    exchanges for a fresh masquerade session."""
    _check_from_browser(
        request=request, hijacker=hijacker, hijacked=hijacked, justification=justification
    )
    host = home_host(hijacked) or settings.PLATFORM_HOSTS[0]
    ticket = secrets.token_urlsafe(32)
    with transaction.atomic():
        record = _browser_record(
            request=request,
            hijacker=hijacker,
            hijacked=hijacked,
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
            target=hijacked,
            tenant=hijacked.tenant,
            subject=record,
            handoff_host=host,
        )
    return record, ticket


def masquerade_handoff_redeem(*, request: Any, ticket: str) -> MasqueradeSession:
    """Exchange a hand-off ticket for a masquerade session on this host, exactly once."""
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
        _close(record, end_reason)
        return masquerade_deny(
            request=request,
            hijacker=record.hijacker,
            hijacked=record.hijacked,
            refusal=refusal,
            channel=record.channel,
        )


def _close(record: MasqueradeSession, end_reason: str) -> None:
    record.ended_at = clock.now()
    record.end_reason = end_reason
    record.save(update_fields=["ended_at", "end_reason"])


def masquerade_end(*, request: Any, record: MasqueradeSession, end_reason: str) -> None:
    """End a masquerade and record its HIJACK_END. Ending always happens: it is the safe
    direction, so a line the file will not take yet is kept and written later."""
    fingerprint = None
    if hasattr(request, "session") and request.session.get(MASQUERADE_KEY):
        fingerprint = _session_fingerprint_of(request)
    with transaction.atomic():
        if record.ended_at is None:
            _close(record, end_reason)
        _record_line(
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
        request.session[SESSION_SCHEMA_KEY] = request.tenant.schema_name
    else:
        logout(request)
    request.masquerade = None
    return record.return_url or "/"


def masquerade_live_record(public_id: str | None) -> MasqueradeSession | None:
    if not public_id:
        return None
    return (
        MasqueradeSession.objects.select_related("hijacker", "hijacked__tenant")
        .filter(public_id=public_id)
        .first()
    )


def masquerade_still_valid(record: MasqueradeSession | None) -> str | None:
    """None while ``record`` may go on, else why it must stop: ended, expired, or the matrix
    (roles, activity) no longer allows it."""
    if record is None:
        return "unknown_masquerade"
    if record.ended_at is not None:
        return "ended"
    if not record.is_live(clock.now()):
        return "expired"
    refusal = masquerade_refusal(
        hijacker=record.hijacker, hijacked=record.hijacked, already_masquerading=False
    )
    return f"no_longer_allowed:{refusal}" if refusal else None


def masquerade_token_start(
    *, request: Any, hijacker: User, target_id: str, justification: str
) -> tuple[MasqueradeSession, AccessToken, str | None]:
    """The API's masquerade: a short-lived access token for the target, bound to the target's
    host, whose ``act`` claim names the real actor (RFC 8693). It carries no refresh token."""
    hijacked = (
        User.objects.select_related("tenant").filter(public_id=target_id).first()
        if target_id
        else None
    )
    masquerade_check(
        request=request,
        hijacker=hijacker,
        hijacked=hijacked,
        already_masquerading=getattr(request, "masquerade", None) is not None,
        channel=MasqueradeSession.Channel.API,
        justification=justification,
    )
    host = home_host(hijacked)
    with transaction.atomic():
        record = _new_record(
            request=request,
            hijacker=hijacker,
            hijacked=hijacked,
            channel=MasqueradeSession.Channel.API,
            justification=justification,
        )
        token = AccessToken.for_user(hijacked)
        token[TENANT_CLAIM] = hijacked.tenant.schema_name if hijacked.tenant_id else "public"
        token[ACTOR_CLAIM] = {
            "sub": str(hijacker.public_id),
            "email": hijacker.email,
            "role": hijacker.role,
        }
        token[MASQUERADE_CLAIM] = str(record.public_id)
        token.set_exp(from_time=record.started_at, lifetime=record.expires_at - record.started_at)
        record.session_digest = session_fingerprint(token["jti"])
        record.save(update_fields=["session_digest"])
        _audit_start(request, record, reason=justification)
    return record, token, host


def masquerade_for_token(*, user: User, token: Any) -> MasqueradeSession:
    """The live masquerade a token with an ``act`` claim belongs to, or ``NotFound``."""
    actor = token.get(ACTOR_CLAIM)
    record = masquerade_live_record(token.get(MASQUERADE_CLAIM))
    if (
        record is None
        or not isinstance(actor, dict)
        or record.hijacked_id != user.pk
        or str(record.hijacker.public_id) != actor.get("sub")
        or masquerade_still_valid(record) is not None
    ):
        raise NotFound("This masquerade has ended.")
    return record
