"""The headless side of masquerading: ``/api/masquerade/`` starts (POST) and ends (DELETE, or
POST to ``end/``) a masquerade and hands out the target's short-lived credentials."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from access.http import request_masquerade
from access.masquerade.services import MASQUERADE_KEY, masquerade_end
from access.masquerade.sessions import masquerade_session_release
from access.masquerade.tokens import masquerade_token_start
from access.models import MasqueradeSession
from core.api.openapi import error_response
from core.exceptions import DomainError
from users.http import request_user
from users.serializers import UserSerializer


class MasqueradeStartSerializer(serializers.Serializer):
    user = serializers.UUIDField(help_text="The id of the user to act as.")
    reason = serializers.CharField(
        max_length=500, help_text="Why: written to the masquerade audit log."
    )


class MasqueradeSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    actor = UserSerializer(source="hijacker", read_only=True)
    target = UserSerializer(source="hijacked", read_only=True)

    class Meta:
        model = MasqueradeSession
        fields = ["id", "actor", "target", "channel", "reason", "started_at", "expires_at"]
        read_only_fields = fields


NOT_MASQUERADING = error_response("Not made in a masquerade (`not_masquerading`).")
MasqueradeStarted = inline_serializer(
    "MasqueradeStarted",
    {
        "access": serializers.CharField(),
        "token_type": serializers.CharField(),
        "expires_at": serializers.DateTimeField(),
        "host": serializers.CharField(allow_null=True),
        "masquerade": MasqueradeSerializer(),
    },
)


class MasqueradeView(APIView):
    """Start a masquerade as ``user`` (a reason is required), or end the one this request is
    made in. The access token returned works only on the target's host, names the real actor
    in its ``act`` claim, dies with the masquerade, and cannot start another one."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=MasqueradeStartSerializer,
        responses={
            201: MasqueradeStarted,
            403: error_response(
                "You may not act as this user, or there is no such user (`masquerade_denied`, "
                "the reason in `fields`)."
            ),
            409: error_response("The target's business has no host to work on."),
            503: error_response(
                "The masquerade audit log cannot be written, so nothing started "
                "(`audit_unavailable`), or the database cannot be reached "
                "(`database_unavailable`, with Retry-After)."
            ),
        },
        tags=["masquerade"],
    )
    def post(self, request: Request) -> Response:
        data = MasqueradeStartSerializer(data=request.data)
        if not data.is_valid():
            raise DomainError(
                "A target user id and a reason are required.",
                fields={k: [str(m) for m in v] for k, v in data.errors.items()},
            )
        record, token, host = masquerade_token_start(
            request=request,
            hijacker=request_user(request),
            target_id=str(data.validated_data["user"]),
            justification=data.validated_data["reason"].strip(),
        )
        body = {
            "access": str(token),
            "token_type": "Bearer",
            "expires_at": record.expires_at,
            "host": host,
            "masquerade": MasqueradeSerializer(record).data,
        }
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={204: None, 400: NOT_MASQUERADING},
        tags=["masquerade"],
    )
    def delete(self, request: Request) -> Response:
        record = request_masquerade(request)
        if record is None:
            raise DomainError("This request is not made in a masquerade.", code="not_masquerading")
        if request._request.session.get(MASQUERADE_KEY):
            masquerade_session_release(
                request=request._request, record=record, end_reason="ended_by_api"
            )
        else:
            masquerade_end(request=request, record=record, end_reason="ended_by_api")
        return Response(status=status.HTTP_204_NO_CONTENT)


class MasqueradeEndView(MasqueradeView):
    """End the masquerade this request is made in (the same as DELETE /api/masquerade/)."""

    http_method_names = ["post", "options"]

    @extend_schema(
        request=None,
        responses={204: None, 400: NOT_MASQUERADING},
        tags=["masquerade"],
    )
    def post(self, request: Request) -> Response:
        return self.delete(request)
