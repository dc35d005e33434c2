from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.serializers import BaseSerializer

from catalog.api.serializers import ServiceSerializer
from catalog.figures import with_service_figures
from catalog.models import Service, ServiceRequirement, ServiceResourceOverride
from catalog.permissions import SERVICE_PERMISSIONS
from catalog.services import service_create, service_delete, service_update
from core.api.viewsets import PublicIdLookupMixin
from users.http import request_user

SERVICE_EXAMPLE = OpenApiExample(
    "A treatment needing a therapist and a room",
    value={
        "name": "Massage",
        "duration_minutes": 50,
        "price": "80.00",
        "buffer_after_minutes": 10,
        "min_notice_minutes": 120,
        "max_advance_days": 60,
        "requirements": [
            {"resource_type": "STAFF", "eligible_resources": ["<therapist id>"]},
            {"resource_type": "ROOM", "eligible_resources": ["<room id>", "<room id>"]},
        ],
        "resource_overrides": [
            {"resource": "<therapist id>", "price": "95.00", "duration_minutes": 60},
        ],
    },
    request_only=True,
)


@extend_schema_view(
    list=extend_schema(tags=["services"]),
    retrieve=extend_schema(tags=["services"]),
    create=extend_schema(tags=["services"], examples=[SERVICE_EXAMPLE]),
    partial_update=extend_schema(tags=["services"]),
    destroy=extend_schema(tags=["services"]),
)
class ServiceViewSet(PublicIdLookupMixin, viewsets.ModelViewSet):
    """What the business sells: duration, price, buffers, notice, horizon, required resources."""

    serializer_class = ServiceSerializer
    permission_classes = SERVICE_PERMISSIONS
    filterset_fields = ["is_active"]
    http_method_names = ["get", "post", "patch", "delete"]

    def get_queryset(self) -> QuerySet[Service]:
        return with_service_figures(
            Service.objects.prefetch_related(
                Prefetch(
                    "requirements",
                    queryset=ServiceRequirement.objects.prefetch_related("eligible_resources"),
                ),
                Prefetch(
                    "resource_overrides",
                    queryset=ServiceResourceOverride.objects.select_related("resource"),
                ),
            )
        ).order_by("name", "id")

    def perform_create(self, serializer: BaseSerializer[Service]) -> None:
        serializer.instance = service_create(
            actor=request_user(self.request), **serializer.validated_data
        )

    def perform_update(self, serializer: BaseSerializer[Service]) -> None:
        assert serializer.instance is not None  # an update's serializer holds the service
        serializer.instance = service_update(
            service=serializer.instance,
            actor=request_user(self.request),
            **serializer.validated_data,
        )

    def perform_destroy(self, instance: Service) -> None:
        service_delete(service=instance, actor=request_user(self.request))
