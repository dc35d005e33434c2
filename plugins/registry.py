"""The six platform plugins, by slug: what each one does lives in ``plugins/builtin/``."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

from notifications.handlers import Installed
from plugins.base import Plugin
from plugins.builtin.agenda import DailyAgenda
from plugins.builtin.calendar_feed import CalendarFeed
from plugins.builtin.no_show import NoShowTracking
from plugins.builtin.reminders import AppointmentReminders
from plugins.builtin.reviews import ReviewRequests
from plugins.builtin.webhooks import Webhooks
from plugins.selectors import enabled_installations
from tenancy.models import Tenant


@cache
def _registry() -> dict[str, Plugin]:
    plugins = [
        AppointmentReminders(), Webhooks(), CalendarFeed(), DailyAgenda(), NoShowTracking(),
        ReviewRequests(),
    ]  # fmt: skip
    return {plugin.slug: plugin for plugin in plugins}


def plugin_for(slug: str) -> Plugin | None:
    return _registry().get(slug)


def installed_plugins(tenant: Tenant) -> Iterator[Installed]:
    """The tenant's enabled installations as the outbox's handlers
    (``notifications.handlers.register_installed_handlers``)."""
    for installation in enabled_installations(tenant=tenant):
        slug = installation.plugin.slug
        yield slug, plugin_for(slug), installation.settings, installation.installed_at
