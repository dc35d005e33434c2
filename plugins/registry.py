"""The six platform plugins, by slug: what each one does lives in ``plugins/builtin/``."""

from __future__ import annotations

from functools import cache

from plugins.base import Plugin


@cache
def _registry() -> dict[str, Plugin]:
    from plugins.builtin.agenda import DailyAgenda
    from plugins.builtin.calendar_feed import CalendarFeed
    from plugins.builtin.no_show import NoShowTracking
    from plugins.builtin.reminders import AppointmentReminders
    from plugins.builtin.reviews import ReviewRequests
    from plugins.builtin.webhooks import Webhooks

    plugins = [
        AppointmentReminders(), Webhooks(), CalendarFeed(), DailyAgenda(), NoShowTracking(),
        ReviewRequests(),
    ]  # fmt: skip
    return {plugin.slug: plugin for plugin in plugins}


def plugin_for(slug: str) -> Plugin | None:
    return _registry().get(slug)


@cache
def platform_handlers() -> dict[str, Plugin]:
    """Handlers of outbox events that run for every business, installed plugins or not (the
    platform's own e-mails), by the slug their deliveries carry."""
    from appointments.confirmations import GuestBookingConfirmation

    return {handler.slug: handler for handler in [GuestBookingConfirmation()]}
