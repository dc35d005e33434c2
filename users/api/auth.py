"""Sign-in endpoints: JWT pairs and sessions, each bound to the host it was issued on."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import login, logout
from django.middleware.csrf import get_token
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from core.api.openapi import error_response
from core.audit import security_event
from core.exceptions import DomainError
from users.authentication import SESSION_SCHEMA_KEY, TENANT_CLAIM, credential_fits_host
from users.models import User
from users.serializers import LoginSerializer, UserSerializer
from users.services import user_authenticate_on_host

TokenPair = inline_serializer(
    "TokenPair", {"access": serializers.CharField(), "refresh": serializers.CharField()}
)
SIGN_IN_REFUSED = error_response(
    "Wrong email or password, or an account that does not belong to this host "
    "(`authentication_failed`; the answer does not tell which)."
)


class LoginThrottled(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    def get_authenticate_header(self, request: Request) -> str:
        # Without authenticators DRF would turn a failed sign-in into 403; it is a 401.
        return 'Bearer realm="api"'


class TokenObtainView(LoginThrottled):
    """Exchange email and password for a JWT pair valid on this host only."""

    @extend_schema(
        request=LoginSerializer, responses={200: TokenPair, 401: SIGN_IN_REFUSED}, tags=["auth"]
    )
    def post(self, request: Request) -> Response:
        data = LoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_authenticate_on_host(request=request, **data.validated_data)
        security_event("login_succeeded", request=request, actor=user, credential="jwt")
        refresh = RefreshToken.for_user(user)
        refresh[TENANT_CLAIM] = request.tenant.schema_name
        return Response({"access": str(refresh.access_token), "refresh": str(refresh)})


class TokenRefreshView(LoginThrottled):
    """A new access token from a refresh token issued on this same host."""

    @extend_schema(
        request=inline_serializer("TokenRefresh", {"refresh": serializers.CharField()}),
        responses={
            200: inline_serializer("AccessToken", {"access": serializers.CharField()}),
            401: error_response(
                "The refresh token is invalid or expired (`token_not_valid`), or was issued on "
                "another host (`wrong_host`)."
            ),
        },
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        raw = request.data.get("refresh") if isinstance(request.data, dict) else None
        if not isinstance(raw, str) or not raw:
            raise DomainError("A refresh token is required.", fields={"refresh": ["Required."]})
        try:
            refresh = RefreshToken(raw)
        except TokenError as error:
            return Response(
                {"error": {"code": "token_not_valid", "message": str(error)}},
                status=status.HTTP_401_UNAUTHORIZED,
            )
        user = User.objects.filter(public_id=refresh.get("sub"), is_active=True).first()
        if user is None or not credential_fits_host(
            user=user, issued_on=refresh.get(TENANT_CLAIM), request=request
        ):
            return Response(
                {"error": {"code": "wrong_host", "message": "This token is not valid here."}},
                status=status.HTTP_401_UNAUTHORIZED,
            )
        return Response({"access": str(refresh.access_token)})


class SessionView(LoginThrottled):
    """Cookie sessions for browser front ends: POST signs in, DELETE signs out."""

    @extend_schema(
        request=LoginSerializer,
        responses={200: UserSerializer, 401: SIGN_IN_REFUSED},
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        data = LoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_authenticate_on_host(request=request, **data.validated_data)
        login(request._request, user, backend="django.contrib.auth.backends.ModelBackend")
        request._request.session[SESSION_SCHEMA_KEY] = request.tenant.schema_name
        body = UserSerializer(user).data | {"csrf_token": get_token(request._request)}
        return Response(body)

    @extend_schema(request=None, responses={204: None}, tags=["auth"])
    def delete(self, request: Request) -> Response:
        logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)
