"""Sign-in endpoints: JWT pairs and sessions, each bound to the host it was issued on; token
rotation, sign-out and password change."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import login, logout, update_session_auth_hash
from django.middleware.csrf import get_token
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.tokens import Token

from core.api.openapi import error_response
from tenancy.http import request_tenant
from users.authentication import SESSION_SCHEMA_KEY, TENANT_CLAIM
from users.http import request_user
from users.serializers import (
    LoginSerializer,
    PasswordChangeSerializer,
    RefreshTokenSerializer,
    UserSerializer,
)
from users.services import user_authenticate_on_host, user_password_change
from users.signin import SignInAddressThrottle
from users.tokens import token_refresh, token_revoke, token_sign_in

TokenPair = inline_serializer(
    "TokenPair", {"access": serializers.CharField(), "refresh": serializers.CharField()}
)
NewCredentials = inline_serializer(
    "PasswordChanged",
    {
        "access": serializers.CharField(allow_null=True),
        "refresh": serializers.CharField(allow_null=True),
    },
)
SIGN_IN_REFUSED = error_response(
    "Wrong email or password, or an account that does not belong to this host "
    "(`authentication_failed`; the answer does not tell which)."
)
TOKEN_REFUSED = error_response(
    "The refresh token is invalid, expired, spent or revoked (`token_not_valid`), was issued on "
    "another host (`wrong_host`), or its user is gone (`user_not_found`), deactivated "
    "(`user_inactive`) or changed password since (`password_changed`)."
)
REVOKE_REFUSED = error_response(
    "The refresh token is invalid, expired or not one this platform issued (`token_not_valid`)."
)
THROTTLED = error_response(
    "Too many attempts from this address (`throttled`), or this account is locked for a while "
    "after repeated failures (`sign_in_locked`); wait the seconds in Retry-After."
)


class AuthView(APIView):
    """The doors that take credentials in the body: no authentication of their own."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    def get_authenticate_header(self, request: Request) -> str:
        # Without authenticators DRF would turn a failed sign-in into 403; it is a 401.
        return 'Bearer realm="api"'


class TokenObtainView(AuthView):
    """Exchange email and password for a JWT pair valid on this host only."""

    @extend_schema(
        request=LoginSerializer,
        responses={200: TokenPair, 401: SIGN_IN_REFUSED, 429: THROTTLED},
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        data = LoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_authenticate_on_host(request=request, **data.validated_data)
        return Response(token_sign_in(request=request, user=user))


class TokenRefreshView(AuthView):
    """A new pair from a refresh token issued on this host. The refresh token is spent: use the
    one in the answer next time."""

    throttle_classes = [SignInAddressThrottle]

    @extend_schema(
        request=RefreshTokenSerializer,
        responses={200: TokenPair, 401: TOKEN_REFUSED, 429: THROTTLED},
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        data = RefreshTokenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(token_refresh(request=request, raw=data.validated_data["refresh"]))


class TokenRevokeView(AuthView):
    """Sign out a token client: its refresh token is revoked at once. The access token it was
    issued with stays valid until it expires (``JWT_ACCESS_MINUTES``): drop it."""

    throttle_classes = [SignInAddressThrottle]

    @extend_schema(
        request=RefreshTokenSerializer,
        responses={204: None, 401: REVOKE_REFUSED, 429: THROTTLED},
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        data = RefreshTokenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token_revoke(request=request, raw=data.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class SessionView(AuthView):
    """Cookie sessions for browser front ends: POST signs in, DELETE signs out."""

    @extend_schema(
        request=LoginSerializer,
        responses={200: UserSerializer, 401: SIGN_IN_REFUSED, 429: THROTTLED},
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        data = LoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_authenticate_on_host(request=request, **data.validated_data)
        login(request._request, user, backend="django.contrib.auth.backends.ModelBackend")
        request._request.session[SESSION_SCHEMA_KEY] = request_tenant(request).schema_name
        body = UserSerializer(user).data | {"csrf_token": get_token(request._request)}
        return Response(body)

    @extend_schema(request=None, responses={204: None}, tags=["auth"])
    def delete(self, request: Request) -> Response:
        logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeView(APIView):
    """The signed-in user changes its password (the current one is required). Every other token
    and session of the user ends. The caller's own credential is re-issued: a token caller gets
    a new pair in the answer (its old tokens stop working), a session caller keeps its session
    (under a new key) and gets nulls."""

    @extend_schema(
        request=PasswordChangeSerializer,
        responses={
            200: NewCredentials,
            400: error_response(
                "The current password is not correct (`wrong_password`), or the new one is too "
                "weak (`invalid`)."
            ),
            403: error_response(
                "Refused while masquerading (`masquerade_forbidden`), or on a host outside your "
                "role's reach (`permission_denied`)."
            ),
            429: THROTTLED,
        },
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        data = PasswordChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token = request.auth if isinstance(request.auth, Token) else None
        user = request_user(request)
        pair = user_password_change(
            request=request,
            user=user,
            reissue_on=token[TENANT_CLAIM] if token is not None else None,
            **data.validated_data,
        )
        if token is None:
            update_session_auth_hash(request._request, user)
        return Response(pair or {"access": None, "refresh": None})
