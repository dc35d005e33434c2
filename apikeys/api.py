"""``/api/keys/``: the business's API keys. The secret is in the creation's answer only."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apikeys.models import APIKey
from apikeys.permissions import API_KEY_PERMISSIONS
from apikeys.selectors import api_key_get, api_key_list
from apikeys.serializers import APIKeySerializer, APIKeyWithSecretSerializer
from apikeys.services import api_key_create, api_key_revoke
from core.api.viewsets import PublicIdLookupMixin
from core.exceptions import NotFound
from tenancy.http import request_tenant
from users.http import request_user


@extend_schema_view(
    list=extend_schema(tags=["api-keys"], description="Every key, live or not; never a secret."),
    retrieve=extend_schema(tags=["api-keys"]),
    create=extend_schema(
        tags=["api-keys"],
        request=APIKeySerializer,
        responses={201: APIKeyWithSecretSerializer},
        description="A new key acting for you within its scopes, on this business's hosts "
        "only. The whole key is in this answer only: it is stored as a hash.",
    ),
)
class APIKeyViewSet(PublicIdLookupMixin, viewsets.GenericViewSet):
    """The business's API keys (owners)."""

    queryset = APIKey.objects.none()  # for the schema generator
    serializer_class = APIKeySerializer
    permission_classes = API_KEY_PERMISSIONS

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return APIKey.objects.none()
        return api_key_list(tenant=request_tenant(self.request))

    def get_object(self) -> APIKey:
        key = api_key_get(tenant=request_tenant(self.request), public_id=self.kwargs["id"])
        if key is None:
            raise NotFound("No such API key.")
        return key

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(APIKeySerializer(page, many=True).data)

    def retrieve(self, request: Request, id: str) -> Response:
        return Response(APIKeySerializer(self.get_object()).data)

    def create(self, request: Request) -> Response:
        data = APIKeySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        issued = api_key_create(
            tenant=request_tenant(request),
            actor=request_user(request),
            request=request,
            **data.validated_data,
        )
        body = APIKeyWithSecretSerializer(issued.key).data | {"key": issued.secret}
        return Response(body, status=201)

    @extend_schema(
        tags=["api-keys"], request=None, responses={200: APIKeySerializer},
        description="Revoke the key: its next request is refused (401). Revoking twice is "
        "harmless.",
    )  # fmt: skip
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, id: str) -> Response:
        key = api_key_revoke(key=self.get_object(), actor=request_user(request), request=request)
        return Response(APIKeySerializer(key).data)
