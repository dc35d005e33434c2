"""Reads of the marketplace: the catalogue, a tenant's installations, and the one question
everything else asks — is this plugin on for this tenant, and with which settings?"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from core.exceptions import NotFound
from notifications.selectors import plugin_tenants_for
from plugins.models import PluginInstallation, PluginRating, PluginTemplate
from tenancy.models import Tenant
from users.models import User


def catalogue(
    *, category: str | None = None, search: str | None = None
) -> QuerySet[PluginTemplate]:
    plugins = PluginTemplate.objects.all()
    if category:
        plugins = plugins.filter(category=category)
    if search:
        plugins = plugins.filter(
            Q(name__icontains=search)
            | Q(short_description__icontains=search)
            | Q(description__icontains=search)
        )
    return plugins.order_by("name", "id")


def plugin_get(*, slug: str) -> PluginTemplate:
    plugin = PluginTemplate.objects.filter(slug=slug).first()
    if plugin is None:
        raise NotFound(f"No plugin '{slug}' in the catalogue.")
    return plugin


def installations(*, tenant: Tenant) -> QuerySet[PluginInstallation]:
    return (
        PluginInstallation.objects.filter(tenant=tenant)
        .select_related("plugin", "installed_by")
        .order_by("plugin__name", "id")
    )


def installation_get(*, tenant: Tenant, slug: str) -> PluginInstallation:
    installation = installations(tenant=tenant).filter(plugin__slug=slug).first()
    if installation is None:
        raise NotFound(f"'{slug}' is not installed here.")
    return installation


def _tier_allows(tenant: Tenant) -> Q:
    """The plugins ``tenant``'s current plan may use (no tiers listed: every plan). A tenant
    moved to a plan a plugin is not offered on keeps it installed, but it does nothing."""
    return Q(plugin__allowed_tiers=[]) | Q(
        plugin__allowed_tiers__contains=[tenant.subscription_tier]
    )


def enabled_installations(*, tenant: Tenant) -> QuerySet[PluginInstallation]:
    """The installations that run: enabled, and allowed on the tenant's current plan."""
    return installations(tenant=tenant).filter(_tier_allows(tenant), enabled=True)


def active_settings(*, tenant: Tenant, slug: str) -> dict[str, Any] | None:
    """The settings of ``slug`` when it is installed, enabled and allowed on the tenant's plan,
    else None."""
    installation = (
        PluginInstallation.objects.filter(_tier_allows(tenant), tenant=tenant, plugin__slug=slug)
        .filter(enabled=True)
        .only("settings")
        .first()
    )
    return None if installation is None else installation.settings


def plugin_active(*, tenant: Tenant, slug: str) -> bool:
    return active_settings(tenant=tenant, slug=slug) is not None


def installations_for(*, viewer: User) -> QuerySet[PluginInstallation]:
    return PluginInstallation.objects.filter(tenant__in=plugin_tenants_for(viewer=viewer))


def ratings_for(*, viewer: User) -> QuerySet[PluginRating]:
    return PluginRating.objects.filter(tenant__in=plugin_tenants_for(viewer=viewer))
