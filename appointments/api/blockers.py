"""Time off over the API."""

from __future__ import annotations

from typing import Any, cast

from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.serializers import BaseSerializer

from appointments import permissions
from appointments.api.appointments import CONFLICT_EXAMPLE
from appointments.api.serializers import BlockerSerializer
from appointments.models import Blocker
from appointments.selectors import blocker_list
from appointments.services import blocker_create, blocker_delete, blocker_update
from core.api.filters import UTCIsoDateTimeFilter
from core.api.openapi import error_response
from core.api.viewsets import PublicIdLookupMixin
from tenancy.http import request_tenant
from users.http import request_user


class BlockerFilter(filters.FilterSet):
    start = UTCIsoDateTimeFilter(field_name="ends_at", lookup_expr="gt")
    end = UTCIsoDateTimeFilter(field_name="starts_at", lookup_expr="lt")
    resource = filters.UUIDFilter(field_name="resource__public_id")

    class Meta:
        model = Blocker
        fields = ["start", "end", "resource"]


@extend_schema_view(
    list=extend_schema(tags=["blockers"]),
    retrieve=extend_schema(tags=["blockers"]),
    create=extend_schema(
        tags=["blockers"],
        examples=[
            OpenApiExample(
                "Time off",
                value={
                    "resource": "0b9f...",
                    "starts_at": "2026-05-04T12:00:00Z",
                    "ends_at": "2026-05-04T13:00:00Z",
                    "title": "Lunch",
                },
                request_only=True,
            )
        ],
        responses={
            201: BlockerSerializer,
            409: error_response(
                "`resource_busy`: the resource is booked or blocked then.", CONFLICT_EXAMPLE
            ),
        },
    ),
    partial_update=extend_schema(tags=["blockers"]),
    destroy=extend_schema(tags=["blockers"]),
)
class BlockerViewSet(PublicIdLookupMixin, viewsets.ModelViewSet):
    """Time off: a resource cannot be booked while blocked. Staff block their own time."""

    queryset = Blocker.objects.none()  # for the schema generator; get_queryset scopes
    serializer_class = BlockerSerializer
    permission_classes = permissions.BLOCKER_PERMISSIONS
    filterset_class = BlockerFilter
    http_method_names = ["get", "post", "patch", "delete"]

    def get_queryset(self) -> Any:
        return permissions.visible_blockers(
            blocker_list(), user=self.request.user, tenant=request_tenant(self.request)
        ).order_by("starts_at", "id")

    def get_object(self) -> Blocker:
        return permissions.blocker_get_for(
            blocker_list(), user=self.request.user, tenant=request_tenant(self.request),
            public_id=self.kwargs["id"],
        )  # fmt: skip

    def perform_create(self, serializer: BaseSerializer[Blocker]) -> None:
        serializer.instance = blocker_create(
            tenant=request_tenant(self.request),
            actor=request_user(self.request),
            **serializer.validated_data,
        )

    def perform_update(self, serializer: BaseSerializer[Blocker]) -> None:
        blocker = cast(Blocker, serializer.instance)  # an update's serializer holds its row
        serializer.instance = blocker_update(
            tenant=request_tenant(self.request), actor=request_user(self.request), blocker=blocker,
            **serializer.validated_data,
        )  # fmt: skip

    def perform_destroy(self, instance: Blocker) -> None:
        blocker_delete(
            tenant=request_tenant(self.request), actor=request_user(self.request), blocker=instance
        )
