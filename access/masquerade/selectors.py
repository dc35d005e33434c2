"""Masquerade reads: where a user works, the live record a session or token names, and whether
it may go on."""

from __future__ import annotations

from typing import Any

from access.masquerade.rules import masquerade_refusal
from access.models import MasqueradeSession
from core import clock
from core.exceptions import Conflict
from tenancy.http import request_tenant
from tenancy.selectors import is_platform, tenant_primary_host
from users.models import User


def home_host(user: User) -> str | None:
    """The host where ``user`` works: its tenant's primary host, None for platform users."""
    if user.tenant is None:
        return None
    host = tenant_primary_host(user.tenant)
    if host is None:
        raise Conflict(f"{user.tenant.name} has no primary host to work on.")
    return host


def is_home_of(user: User, request: Any) -> bool:
    tenant = request_tenant(request)
    if user.tenant_id is None:
        return is_platform(tenant)
    return not is_platform(tenant) and tenant.pk == user.tenant_id


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
