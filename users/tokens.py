"""JWT pairs: issued bound to a host, rotated on every refresh, revoked at sign-out.

Every refresh token is recorded by its id in simplejwt's ``OutstandingToken`` (public schema) and
is good for exactly one refresh: refreshing blacklists it and hands out a new pair. Tokens also
carry a digest of the password hash they were issued under (simplejwt's ``CHECK_REVOKE_TOKEN``),
so a password change ends all of them, access tokens included.
"""

from __future__ import annotations

from typing import Any, cast

from django.db import transaction
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch, get_md5_hash_password

from core.audit import security_event
from users.authentication import TENANT_CLAIM, TenantJWTAuthentication, credential_fits_host
from users.models import User


def token_pair_issue(*, user: User, schema: str) -> dict[str, str]:
    """A new refresh token and its access token for ``user``, valid on the host of ``schema``.

    simplejwt's ``RefreshToken.for_user`` would also keep the signed token in the database; only
    its id is kept here, so the table holds nothing that works as a credential."""
    refresh = RefreshToken()
    refresh[api_settings.USER_ID_CLAIM] = str(user.public_id)
    refresh[api_settings.REVOKE_TOKEN_CLAIM] = get_md5_hash_password(user.password)
    refresh[TENANT_CLAIM] = schema
    OutstandingToken.objects.create(
        user=user,
        jti=refresh[api_settings.JTI_CLAIM],
        token="",
        created_at=refresh.current_time,
        expires_at=datetime_from_epoch(refresh["exp"]),
    )
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


@transaction.atomic
def token_sign_in(*, request: Any, user: User) -> dict[str, str]:
    """The pair for a user whose sign-in on this host was just checked, and its audit line."""
    pair = token_pair_issue(user=user, schema=request.tenant.schema_name)
    security_event("login_succeeded", request=request, actor=user, credential="jwt")
    return pair


def _refused(message: str) -> AuthenticationFailed:
    return AuthenticationFailed(message, code="token_not_valid")


def _decode(raw: str) -> RefreshToken:
    """A refresh token whose signature, expiry and type hold and that is not blacklisted."""
    try:
        return RefreshToken(raw)  # type: ignore[arg-type]  # simplejwt annotates it as Token
    except TokenError as error:
        raise _refused(str(error)) from None


def _blacklist(refresh: RefreshToken) -> bool:
    """Blacklist a token we issued; False when it was blacklisted already (by a parallel request:
    the one-row-per-token constraint decides which of them wins)."""
    outstanding = OutstandingToken.objects.filter(jti=refresh[api_settings.JTI_CLAIM]).first()
    if outstanding is None:
        raise _refused("Token is not known here.")
    _record, created = BlacklistedToken.objects.get_or_create(token=outstanding)
    return created


def _user_of(refresh: RefreshToken) -> User:
    """The token's user: active, and the password it was made under (AUTH_USER_MODEL is User)."""
    return cast(User, TenantJWTAuthentication().get_user(refresh))


def token_refresh(*, request: Any, raw: str) -> dict[str, str]:
    """Exchange a refresh token issued on this host for a new pair; the old one is spent. Refused
    (401) when it is invalid, expired, spent or revoked, its user is inactive or changed password
    since, or it belongs to another host."""
    refresh = _decode(raw)
    user = _user_of(refresh)
    issued_on = refresh.get(TENANT_CLAIM)
    if not credential_fits_host(user=user, issued_on=issued_on, request=request):
        raise AuthenticationFailed("This token is not valid here.", code="wrong_host")
    with transaction.atomic():
        if not _blacklist(refresh):
            raise _refused("Token is blacklisted")
        pair = token_pair_issue(user=user, schema=issued_on)
        security_event("token_refreshed", request=request, actor=user, credential="jwt")
    return pair


def token_revoke(*, request: Any, raw: str) -> None:
    """Sign out: the refresh token can no longer be used (its access token lives out its minutes).
    Possession of the token is all it takes; revoking is always safe."""
    refresh = _decode(raw)
    user = User.objects.filter(public_id=refresh.get(api_settings.USER_ID_CLAIM)).first()
    with transaction.atomic():
        if _blacklist(refresh):
            security_event("signed_out", request=request, actor=user, credential="jwt")
