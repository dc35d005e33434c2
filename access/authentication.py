"""The API's token authentication: host-bound JWTs (users.authentication) that may also be
masquerade tokens, valid only while their masquerade lives."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions

from access.masquerade.tokens import masquerade_for_token
from core.audit import security_event
from core.exceptions import NotFound
from users.authentication import TenantJWTAuthentication


class MasqueradeAwareJWTAuthentication(TenantJWTAuthentication):
    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        result = super().authenticate(request)
        if result is not None and "act" in result[1]:
            _mark_masquerade(request, *result)
        return result


def _mark_masquerade(request: Any, user: Any, token: Any) -> None:
    """A token whose ``act`` claim names a real actor (RFC 8693) is a masquerade token: valid only
    while its masquerade lives; the request is marked so every layer can tell."""
    try:
        record = masquerade_for_token(user=user, token=token)
    except NotFound:
        security_event(
            "credential_refused_masquerade_ended",
            request=request,
            actor=user,
            masquerade_id=str(token.get("msq")),
        )
        raise exceptions.AuthenticationFailed(
            "This masquerade has ended.", code="masquerade_ended"
        ) from None
    request._request.masquerade = record
