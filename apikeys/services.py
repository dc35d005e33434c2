"""Writes on API keys: creation (the secret is returned once, never stored) and revocation,
each with its audit event in the same transaction; and the last-used stamp."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from rest_framework.request import Request

from apikeys.models import APIKey
from apikeys.scopes import Scope
from core.audit import security_event
from core.exceptions import DomainError
from tenancy.models import Tenant
from users.models import User

KEY_PREFIX = "sk_"


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedKey:
    key: APIKey
    secret: str  # the whole "sk_<prefix>_<secret>", shown once


def _check_scopes(scopes: list[str]) -> list[str]:
    unknown = sorted(set(scopes) - set(Scope.values))
    if unknown or not scopes:
        message = f"Unknown scopes: {', '.join(unknown)}." if unknown else "Name a scope."
        raise DomainError(message, fields={"scopes": [message]})
    return sorted(set(scopes))


def _check_expiry(expires_at: datetime | None, now: datetime) -> datetime:
    if expires_at is None:
        return now + timedelta(days=settings.API_KEY_DEFAULT_DAYS)
    longest = now + timedelta(days=settings.API_KEY_MAX_DAYS)
    if not now < expires_at <= longest:
        message = f"Between now and {settings.API_KEY_MAX_DAYS} days from now."
        raise DomainError(message, fields={"expires_at": [message]})
    return expires_at


def api_key_create(
    *,
    tenant: Tenant,
    actor: User,
    name: str,
    scopes: list[str],
    expires_at: datetime | None = None,
    request: HttpRequest | Request | None = None,
) -> IssuedKey:
    """A new key of ``tenant`` acting for ``actor`` within ``scopes``. Its secret is in the
    result only: the database keeps its SHA-256."""
    now = timezone.now()
    scopes = _check_scopes(scopes)
    expires_at = _check_expiry(expires_at, now)
    prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    with transaction.atomic():
        key = APIKey.objects.create(
            tenant=tenant, created_by=actor, name=name, prefix=prefix,
            secret_sha256=secret_digest(secret), scopes=scopes, created_at=now,
            expires_at=expires_at,
        )  # fmt: skip
        security_event(
            "api_key_created", request=request, actor=actor, subject=key, tenant=tenant,
            prefix=key.display_prefix, scopes=scopes, expires_at=expires_at.isoformat(),
        )  # fmt: skip
    return IssuedKey(key=key, secret=f"{KEY_PREFIX}{prefix}_{secret}")


def api_key_revoke(
    *, key: APIKey, actor: User, request: HttpRequest | Request | None = None
) -> APIKey:
    """Revoke ``key`` at once: the next request presenting it is refused (keys are read from
    the database on every request). Revoking a revoked key changes nothing and records nothing."""
    with transaction.atomic():
        key = APIKey.objects.select_for_update().get(pk=key.pk)
        if key.revoked_at is not None:
            return key
        key.revoked_at = timezone.now()
        key.revoked_by = actor
        key.save(update_fields=["revoked_at", "revoked_by"])
        security_event(
            "api_key_revoked", request=request, actor=actor, subject=key, tenant=key.tenant,
            prefix=key.display_prefix,
        )  # fmt: skip
    return key


def api_key_mark_used(*, key: APIKey, now: datetime | None = None) -> None:
    """Stamp ``last_used_at``, at most once per ``API_KEY_LAST_USED_RESOLUTION_SECONDS``: a
    conditional UPDATE, so concurrent requests write it once and most requests not at all."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.API_KEY_LAST_USED_RESOLUTION_SECONDS)
    if key.last_used_at is not None and key.last_used_at > stale:
        return
    APIKey.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale), pk=key.pk
    ).update(last_used_at=now)
    key.last_used_at = now
