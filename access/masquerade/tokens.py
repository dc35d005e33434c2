"""API masquerades: a short-lived access token for the target, bound to the target's host,
whose ``act`` claim names the real actor (RFC 8693), valid only while its record lives."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from rest_framework_simplejwt.tokens import AccessToken, Token

from access.masquerade.records import (
    masquerade_record_open,
    masquerade_start_line,
    session_fingerprint,
)
from access.masquerade.selectors import (
    home_host,
    masquerade_live_record,
    masquerade_still_valid,
)
from access.masquerade.services import masquerade_check
from access.models import MasqueradeSession
from core.exceptions import NotFound
from users.authentication import TENANT_CLAIM
from users.models import User

ACTOR_CLAIM = "act"  # RFC 8693 (OAuth 2.0 token exchange): who is really acting
MASQUERADE_CLAIM = "msq"


def _masquerade_token(hijacker: User, hijacked: User, record: MasqueradeSession) -> AccessToken:
    """The target's access token, naming the real actor, expiring with ``record``."""
    token = AccessToken.for_user(hijacked)
    token[TENANT_CLAIM] = hijacked.tenant.schema_name if hijacked.tenant else "public"
    token[ACTOR_CLAIM] = {
        "sub": str(hijacker.public_id),
        "email": hijacker.email,
        "role": hijacker.role,
    }
    token[MASQUERADE_CLAIM] = str(record.public_id)
    token.set_exp(from_time=record.started_at, lifetime=record.expires_at - record.started_at)
    return token


def masquerade_token_start(
    *, request: Any, hijacker: User, target_id: str, justification: str
) -> tuple[MasqueradeSession, AccessToken, str | None]:
    """The API's masquerade: a short-lived access token for the target, bound to the target's
    host, whose ``act`` claim names the real actor (RFC 8693). It carries no refresh token."""
    hijacked = masquerade_check(
        request=request,
        hijacker=hijacker,
        hijacked=(
            User.objects.select_related("tenant").filter(public_id=target_id).first()
            if target_id
            else None
        ),
        already_masquerading=getattr(request, "masquerade", None) is not None,
        channel=MasqueradeSession.Channel.API,
        justification=justification,
    )
    host = home_host(hijacked)
    with transaction.atomic():
        record = masquerade_record_open(
            request=request,
            hijacker=hijacker,
            hijacked=hijacked,
            channel=MasqueradeSession.Channel.API,
            justification=justification,
        )
        token = _masquerade_token(hijacker, hijacked, record)
        record.session_digest = session_fingerprint(str(token["jti"])) or ""
        record.save(update_fields=["session_digest"])
        masquerade_start_line(request, record, reason=justification)
    return record, token, host


def masquerade_for_token(*, user: User, token: Token) -> MasqueradeSession:
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
