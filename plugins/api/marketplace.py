"""The catalogue (every host), installing, configuring, uninstalling and rating (tenant hosts)."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.openapi import error_response
from plugins.api.permissions import (
    CATALOGUE_PERMISSIONS,
    INSTALL_PERMISSIONS,
    INSTALLED_PERMISSIONS,
    RATE_PERMISSIONS,
)
from plugins.api.serializers import (
    ConfigureSerializer,
    InstallationSerializer,
    InstallSerializer,
    PluginSerializer,
    RatingSerializer,
)
from plugins.models import Category, PluginInstallation, PluginTemplate
from plugins.selectors import catalogue, installation_get, installations, plugin_get
from plugins.services import plugin_configure, plugin_install, plugin_rate, plugin_uninstall
from tenancy.http import request_tenant
from users.http import request_user

SLUG_PATTERN = r"[a-z0-9][a-z0-9-]{0,63}"


class CatalogueFilter(filters.FilterSet):
    category = filters.ChoiceFilter(choices=Category.choices)
    search = filters.CharFilter(
        method="filter_search", help_text="Name, short or full description contains"
    )

    class Meta:
        model = PluginTemplate
        fields = ["category", "search"]

    def filter_search(
        self, queryset: QuerySet[PluginTemplate], name: str, value: str
    ) -> QuerySet[PluginTemplate]:
        return queryset & catalogue(search=value)


@extend_schema_view(
    list=extend_schema(tags=["plugins"], description="The catalogue, full descriptions included."),
    retrieve=extend_schema(tags=["plugins"]),
)
class CatalogueViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The plugin marketplace's catalogue (read-only)."""

    queryset = PluginTemplate.objects.none()  # for the schema generator
    serializer_class = PluginSerializer
    permission_classes = CATALOGUE_PERMISSIONS
    filterset_class = CatalogueFilter
    lookup_field = "slug"
    lookup_url_kwarg = "slug"
    lookup_value_regex = SLUG_PATTERN

    def get_queryset(self) -> QuerySet[PluginTemplate]:
        return catalogue()

    def get_object(self) -> PluginTemplate:
        return plugin_get(slug=self.kwargs["slug"])


INSTALL_EXAMPLE = OpenApiExample(
    "Install reminders at 48 h and 3 h",
    value={
        "accepted_permissions": ["appointments.read", "customers.email"],
        "settings": {"offsets_minutes": [2880, 180]},
    },
    request_only=True,
)

BAD_SETTINGS_EXAMPLE = OpenApiExample(
    "A setting the schema refuses",
    value={
        "error": {
            "code": "invalid_settings",
            "message": "settings.hour: 25 is greater than the maximum of 23",
            "fields": {"settings.hour": ["25 is greater than the maximum of 23"]},
        }
    },
    response_only=True,
    status_codes=["400"],
)


class PluginInstallView(APIView):
    permission_classes = INSTALL_PERMISSIONS

    @extend_schema(
        tags=["plugins"],
        request=InstallSerializer,
        responses={
            201: InstallationSerializer,
            400: error_response(
                "Field errors (`invalid`), permissions not all accepted "
                "(`permissions_not_accepted`) or settings the plugin's schema refuses "
                "(`invalid_settings`).",
                BAD_SETTINGS_EXAMPLE,
            ),
            403: error_response(
                "Your role may not install plugins (`permission_denied`), or the plugin is not "
                "for this business's plan (`tier_limit_exceeded`)."
            ),
            409: error_response("Already installed (`plugin_already_installed`)."),
        },
        examples=[INSTALL_EXAMPLE],
        description="Install a plugin for this business (owners). Consent to its "
        "required_permissions by listing their codes.",
    )  # fmt: skip
    def post(self, request: Request, slug: str) -> Response:
        plugin = plugin_get(slug=slug)
        data = InstallSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        installation = plugin_install(
            tenant=request_tenant(request), plugin=plugin, actor=request_user(request),
            accepted_permissions=data.validated_data["accepted_permissions"],
            settings=data.validated_data.get("settings"), request=request,
        )  # fmt: skip
        fresh = installations(tenant=request_tenant(request)).get(pk=installation.pk)
        return Response(InstallationSerializer(fresh).data, status=201)


class PluginRatingView(APIView):
    permission_classes = RATE_PERMISSIONS

    @extend_schema(
        tags=["plugins"],
        request=RatingSerializer,
        responses=RatingSerializer,
        examples=[OpenApiExample("Five stars", value={"score": 5, "comment": "No more no-shows."},
                                 request_only=True)],
        description="This business's rating of the plugin (one per business; rating again "
        "changes it).",
    )  # fmt: skip
    def put(self, request: Request, slug: str) -> Response:
        plugin = plugin_get(slug=slug)
        data = RatingSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rating = plugin_rate(
            tenant=request_tenant(request), plugin=plugin, actor=request_user(request),
            request=request, score=data.validated_data["score"],
            comment=data.validated_data["comment"],
        )  # fmt: skip
        return Response(RatingSerializer(rating).data)


@extend_schema_view(
    list=extend_schema(tags=["plugins"], description="Plugins installed here."),
    retrieve=extend_schema(tags=["plugins"]),
)
class InstalledPluginViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """This business's installed plugins: configure, enable/disable (managers), uninstall
    (owners)."""

    queryset = PluginInstallation.objects.none()  # for the schema generator
    serializer_class = InstallationSerializer
    permission_classes = INSTALLED_PERMISSIONS
    lookup_field = "slug"
    lookup_url_kwarg = "slug"
    lookup_value_regex = SLUG_PATTERN
    http_method_names = ["get", "patch", "delete"]

    def get_permissions(self) -> Sequence[BasePermission]:
        # An uninstall (DELETE) is the owners', as an install is.
        if self.request.method == "DELETE":
            return [permission() for permission in INSTALL_PERMISSIONS]
        return [permission() for permission in INSTALLED_PERMISSIONS]

    def get_queryset(self) -> QuerySet[PluginInstallation]:
        return installations(tenant=request_tenant(self.request))

    def get_object(self) -> PluginInstallation:
        return installation_get(tenant=request_tenant(self.request), slug=self.kwargs["slug"])

    @extend_schema(
        tags=["plugins"],
        request=ConfigureSerializer,
        responses={
            200: InstallationSerializer,
            400: error_response(
                "Field errors (`invalid`) or settings the plugin's schema refuses "
                "(`invalid_settings`).",
                BAD_SETTINGS_EXAMPLE,
            ),
        },
        examples=[
            OpenApiExample("Agenda at 6:00", value={"settings": {"hour": 6}}, request_only=True),
            OpenApiExample("Switch off", value={"enabled": False}, request_only=True),
        ],
    )  # fmt: skip
    def partial_update(self, request: Request, slug: str) -> Response:
        installation = self.get_object()
        data = ConfigureSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        plugin_configure(
            installation=installation, actor=request_user(request), request=request,
            settings=data.validated_data.get("settings"),
            enabled=data.validated_data.get("enabled"),
        )  # fmt: skip
        return Response(InstallationSerializer(self.get_object()).data)

    @extend_schema(
        tags=["plugins"],
        responses={204: None},
        description="Uninstall: its data here is removed and its scheduled work cancelled.",
    )
    def destroy(self, request: Request, slug: str) -> Response:
        installation = self.get_object()
        plugin_uninstall(
            tenant=request_tenant(request), plugin=installation.plugin,
            actor=request_user(request), request=request,
        )  # fmt: skip
        return Response(status=204)
