"""Tenant-wide closures over the API, with the open appointments each one overlaps."""

from __future__ import annotations

from typing import Any, cast

from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.serializers import BaseSerializer

from appointments.api.closures.serializers import ClosureSerializer
from closures.models import Closure
from closures.permissions import CLOSURE_PERMISSIONS
from closures.selectors import closure_list
from closures.services import closure_create, closure_delete, closure_update
from core.api.filters import UTCIsoDateTimeFilter
from core.api.viewsets import PublicIdLookupMixin
from users.http import request_user


class ClosureFilter(filters.FilterSet):
    start = UTCIsoDateTimeFilter(field_name="ends_at", lookup_expr="gt")
    end = UTCIsoDateTimeFilter(field_name="starts_at", lookup_expr="lt")

    class Meta:
        model = Closure
        fields = ["start", "end"]


CLOSURE_EXAMPLE = OpenApiExample(
    "A public holiday",
    value={
        "title": "Christmas Day",
        "starts_at": "2026-12-25T00:00:00+01:00",
        "ends_at": "2026-12-26T00:00:00+01:00",
    },
    request_only=True,
)


@extend_schema_view(
    list=extend_schema(tags=["closures"]),
    retrieve=extend_schema(tags=["closures"]),
    create=extend_schema(tags=["closures"], examples=[CLOSURE_EXAMPLE]),
    partial_update=extend_schema(tags=["closures"]),
    destroy=extend_schema(tags=["closures"]),
)
class ClosureViewSet(PublicIdLookupMixin, viewsets.ModelViewSet):
    """The whole business closed (public holidays, a closed week): every resource at once. Open
    appointments inside are reported in `affected_appointments`, never cancelled."""

    serializer_class = ClosureSerializer
    permission_classes = CLOSURE_PERMISSIONS
    filterset_class = ClosureFilter
    http_method_names = ["get", "post", "patch", "delete"]

    def get_queryset(self) -> Any:
        return closure_list().order_by("starts_at", "id")

    def perform_create(self, serializer: BaseSerializer[Closure]) -> None:
        closure, affected = closure_create(
            actor=request_user(self.request), **serializer.validated_data
        )
        cast(ClosureSerializer, serializer).affected = affected
        serializer.instance = closure

    def perform_update(self, serializer: BaseSerializer[Closure]) -> None:
        closure, affected = closure_update(
            closure=cast(Closure, serializer.instance),  # an update's serializer holds its row
            actor=request_user(self.request),
            **serializer.validated_data,
        )
        cast(ClosureSerializer, serializer).affected = affected
        serializer.instance = closure

    def perform_destroy(self, instance: Closure) -> None:
        closure_delete(closure=instance, actor=request_user(self.request))
