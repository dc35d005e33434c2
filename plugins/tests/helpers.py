"""Small helpers for the plugins' tests."""

from __future__ import annotations

from typing import Any

from core.models import Tenant
from plugins.models import PluginInstallation, PluginTemplate
from plugins.services import plugin_install


def install(tenant: Tenant, slug: str, actor: Any = None, **settings: Any) -> PluginInstallation:
    """Install ``slug`` for ``tenant``, consenting to everything it asks."""
    plugin = PluginTemplate.objects.get(slug=slug)
    return plugin_install(
        tenant=tenant, plugin=plugin, actor=actor,
        accepted_permissions=[p["code"] for p in plugin.required_permissions],
        settings=settings,
    )  # fmt: skip
