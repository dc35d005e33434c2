from __future__ import annotations

from django.db.models import QuerySet
from django.urls import reverse
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from core.api.viewsets import PublicIdLookupMixin
from core.uploads import validated_image
from resources.api.serializers import (
    CalendarFeedSerializer,
    DateOverrideSerializer,
    PhotoSerializer,
    PhotoUploadSerializer,
    ResourceSerializer,
)
from resources.models import DateOverride, Resource
from resources.permissions import (
    OVERRIDE_PERMISSIONS,
    RESOURCE_FEED_PERMISSIONS,
    RESOURCE_PERMISSIONS,
    RESOURCE_PHOTO_PERMISSIONS,
    date_override_get_for,
    visible_date_overrides,
)
from resources.selectors import date_override_list
from resources.services import (
    date_override_create,
    date_override_delete,
    date_override_update,
    ical_token_revoke,
    ical_token_rotate,
    resource_create,
    resource_delete,
    resource_photo_set,
    resource_update,
)
from tenancy.http import request_tenant
from users.http import request_user

RESOURCE_EXAMPLE = OpenApiExample(
    "A stylist working weekdays 9-17",
    value={
        "name": "Ana",
        "type": "STAFF",
        "timezone": "Europe/Berlin",
        "working_hours": [
            {"weekday": d, "start_time": "09:00", "end_time": "17:00"} for d in range(5)
        ],
    },
    request_only=True,
)


class ResourceFilter(filters.FilterSet):
    type = filters.ChoiceFilter(choices=Resource.Type.choices)

    class Meta:
        model = Resource
        fields = ["type", "is_active"]


@extend_schema_view(
    list=extend_schema(tags=["resources"]),
    retrieve=extend_schema(tags=["resources"]),
    create=extend_schema(tags=["resources"], examples=[RESOURCE_EXAMPLE]),
    partial_update=extend_schema(tags=["resources"]),
    destroy=extend_schema(tags=["resources"]),
)
class ResourceViewSet(PublicIdLookupMixin, viewsets.ModelViewSet):
    """People, rooms and equipment that can be booked, with their weekly working hours."""

    serializer_class = ResourceSerializer
    permission_classes = RESOURCE_PERMISSIONS
    filterset_class = ResourceFilter
    http_method_names = ["get", "post", "patch", "delete"]

    def get_queryset(self) -> QuerySet[Resource]:
        return Resource.objects.prefetch_related("working_hours").order_by("name", "id")

    def perform_create(self, serializer: BaseSerializer[Resource]) -> None:
        serializer.instance = resource_create(
            tenant=request_tenant(self.request),
            actor=request_user(self.request),
            request=self.request,
            **serializer.validated_data,
        )

    def perform_update(self, serializer: BaseSerializer[Resource]) -> None:
        assert serializer.instance is not None  # an update's serializer holds the resource
        serializer.instance = resource_update(
            tenant=request_tenant(self.request),
            resource=serializer.instance,
            actor=request_user(self.request),
            **serializer.validated_data,
        )

    def perform_destroy(self, instance: Resource) -> None:
        resource_delete(resource=instance, actor=request_user(self.request))

    @extend_schema(
        methods=["POST"],
        tags=["resources"],
        request=None,
        responses={201: CalendarFeedSerializer},
        description="A new secret iCalendar feed URL (the old one stops working).",
    )
    @extend_schema(
        methods=["DELETE"],
        tags=["resources"],
        request=None,
        responses={204: None},
        description="Switch the feed off.",
    )
    @action(
        detail=True,
        methods=["post", "delete"],
        url_path="calendar-feed",
        permission_classes=RESOURCE_FEED_PERMISSIONS,
    )
    def calendar_feed(self, request: Request, id: str) -> Response:
        resource = self.get_object()
        if request.method == "DELETE":
            ical_token_revoke(resource=resource, actor=request_user(request), request=request)
            return Response(status=204)
        resource = ical_token_rotate(
            resource=resource, actor=request_user(request), request=request
        )
        url = request.build_absolute_uri(
            reverse("calendar-feed", kwargs={"token": resource.ical_token})
        )
        return Response({"url": url}, status=201)

    @extend_schema(
        methods=["PUT"],
        tags=["resources"],
        request={"multipart/form-data": PhotoUploadSerializer},
        responses={200: PhotoSerializer},
        description="Set the resource's photo (multipart, field `file`).",
    )
    @extend_schema(
        methods=["DELETE"],
        tags=["resources"],
        request=None,
        responses={204: None},
        description="Remove the resource's photo.",
    )
    @action(
        detail=True,
        methods=["put", "delete"],
        http_method_names=["put", "delete"],
        parser_classes=[MultiPartParser, FormParser],
        permission_classes=RESOURCE_PHOTO_PERMISSIONS,
    )
    def photo(self, request: Request, id: str) -> Response:
        resource = self.get_object()
        if request.method == "DELETE":
            resource_photo_set(
                resource=resource, image=None, actor=request_user(request), request=request
            )
            return Response(status=204)
        image = validated_image(request.FILES.get("file"))
        resource = resource_photo_set(
            resource=resource, image=image, actor=request_user(request), request=request
        )
        return Response({"photo_url": resource.photo.url})


class DateOverrideFilter(filters.FilterSet):
    resource = filters.UUIDFilter(field_name="resource__public_id")
    start = filters.DateFilter(field_name="date", lookup_expr="gte")
    end = filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = DateOverride
        fields = ["resource", "start", "end", "is_closed"]


@extend_schema_view(
    list=extend_schema(tags=["resources"]),
    retrieve=extend_schema(tags=["resources"]),
    create=extend_schema(
        tags=["resources"],
        examples=[
            OpenApiExample(
                "Closed on a holiday",
                value={"resource": "6f1c...", "date": "2026-12-25", "is_closed": True},
                request_only=True,
            ),
            OpenApiExample(
                "Special hours",
                value={
                    "resource": "6f1c...",
                    "date": "2026-12-24",
                    "start_time": "09:00",
                    "end_time": "12:00",
                },
                request_only=True,
            ),
        ],
    ),
    partial_update=extend_schema(tags=["resources"]),
    destroy=extend_schema(tags=["resources"]),
)
class DateOverrideViewSet(
    PublicIdLookupMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Dates on which a resource's weekly hours do not apply: closed, or special hours."""

    queryset = DateOverride.objects.none()  # for the schema generator; get_queryset scopes
    serializer_class = DateOverrideSerializer
    permission_classes = OVERRIDE_PERMISSIONS
    filterset_class = DateOverrideFilter
    http_method_names = ["get", "post", "patch", "delete"]

    def get_queryset(self) -> QuerySet[DateOverride]:
        return visible_date_overrides(
            date_override_list(),
            user=request_user(self.request),
            tenant=request_tenant(self.request),
        ).order_by("date", "start_time")

    def get_object(self) -> DateOverride:
        return date_override_get_for(
            date_override_list(),
            user=request_user(self.request),
            tenant=request_tenant(self.request),
            public_id=self.kwargs["id"],
        )

    def perform_create(self, serializer: BaseSerializer[DateOverride]) -> None:
        serializer.instance = date_override_create(
            actor=request_user(self.request), **serializer.validated_data
        )

    def perform_update(self, serializer: BaseSerializer[DateOverride]) -> None:
        assert serializer.instance is not None  # an update's serializer holds the override
        serializer.instance = date_override_update(
            actor=request_user(self.request),
            override=serializer.instance,
            **serializer.validated_data,
        )

    def perform_destroy(self, instance: DateOverride) -> None:
        date_override_delete(actor=request_user(self.request), override=instance)
