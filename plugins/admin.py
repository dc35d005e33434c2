"""The marketplace in the admin: the catalogue, which tenant installed what, and ratings, all
read-only. The catalogue is shipped as data (``sync_plugins`` rewrites it on every deploy) and its
figures are counts; installs and ratings change only through the API's services (consent, schema
validation, counts, audit). Each operator sees the installs and ratings of the tenants whose
installed plugins it may read through the API (``notifications.selectors.plugin_tenants_for``)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from core.admin_kit import ReadOnlyAdmin
from plugins.models import PluginInstallation, PluginRating, PluginTemplate
from plugins.selectors import installations_for, ratings_for
from users.http import request_user


@admin.register(PluginTemplate)
class PluginTemplateAdmin(ReadOnlyAdmin):
    list_display = [
        "name", "slug", "category", "version", "author", "install_count", "rating_average",
        "rating_count", "is_platform",
    ]  # fmt: skip
    list_filter = ["category", "is_platform"]
    search_fields = ["name", "slug", "short_description", "description"]


@admin.register(PluginInstallation)
class PluginInstallationAdmin(ReadOnlyAdmin):
    list_display = ["plugin", "tenant", "enabled", "installed_by", "installed_at"]
    list_filter = ["plugin", "enabled"]
    search_fields = ["tenant__name", "tenant__schema_name", "plugin__name"]
    list_select_related = ["plugin", "tenant", "installed_by"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[PluginInstallation]:
        return installations_for(viewer=request_user(request))


@admin.register(PluginRating)
class PluginRatingAdmin(ReadOnlyAdmin):
    list_display = ["plugin", "tenant", "score", "comment", "updated_at"]
    list_filter = ["plugin", "score"]
    search_fields = ["tenant__name", "comment"]
    list_select_related = ["plugin", "tenant"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[PluginRating]:
        return ratings_for(viewer=request_user(request))
