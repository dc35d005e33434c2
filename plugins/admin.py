"""The marketplace in the admin: the catalogue (descriptions editable, figures not), which
tenant installed what, and ratings. Installs and ratings change only through the API's
services (consent, schema validation, counts), so here they are read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from core.admin import ReadOnlyAdmin
from plugins.models import PluginInstallation, PluginRating, PluginTemplate


class InstallationInline(admin.TabularInline):
    model = PluginInstallation
    extra = 0
    fields = ["tenant", "enabled", "installed_at"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PluginTemplate)
class PluginTemplateAdmin(admin.ModelAdmin):
    list_display = [
        "name", "slug", "category", "version", "author", "install_count", "rating_average",
        "rating_count", "is_platform",
    ]  # fmt: skip
    list_filter = ["category", "is_platform"]
    search_fields = ["name", "slug", "short_description", "description"]
    readonly_fields = [
        "install_count",
        "rating_average",
        "rating_count",
        "created_at",
        "updated_at",
    ]
    inlines = [InstallationInline]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PluginInstallation)
class PluginInstallationAdmin(ReadOnlyAdmin):
    list_display = ["plugin", "tenant", "enabled", "installed_by", "installed_at"]
    list_filter = ["plugin", "enabled"]
    search_fields = ["tenant__name", "tenant__schema_name", "plugin__name"]
    list_select_related = ["plugin", "tenant", "installed_by"]


@admin.register(PluginRating)
class PluginRatingAdmin(ReadOnlyAdmin):
    list_display = ["plugin", "tenant", "score", "comment", "updated_at"]
    list_filter = ["plugin", "score"]
    search_fields = ["tenant__name", "comment"]
    list_select_related = ["plugin", "tenant"]
