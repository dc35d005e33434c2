"""Small helpers for the plugins' tests."""

from __future__ import annotations

from typing import Any

from plugins.models import PluginInstallation, PluginTemplate
from plugins.services import plugin_install
from tenancy.models import Tenant
from users.models import User


def install(
    tenant: Tenant, slug: str, actor: User | None = None, **settings: Any
) -> PluginInstallation:
    """Install ``slug`` for ``tenant``, consenting to everything it asks."""
    plugin = PluginTemplate.objects.get(slug=slug)
    return plugin_install(
        tenant=tenant, plugin=plugin, actor=actor,
        accepted_permissions=[p["code"] for p in plugin.required_permissions],
        settings=settings,
    )  # fmt: skip


def drain(*, now: Any = None) -> None:
    """Run the outbox in this process, as the sweep does: fire the jobs due at ``now``,
    dispatch every waiting event, send every due delivery. (Tests inside a transaction never
    commit, so no worker could see their rows; the real-worker tests are in
    notifications/tests/test_end_to_end.py.)"""
    from notifications.outbox import due_jobs_fire, event_dispatch, events_due
    from notifications.sending import deliveries_send

    due_jobs_fire(now=now)
    for _ in range(10):
        pending = events_due(now=now)
        if not pending:
            break
        for event_id in pending:
            event_dispatch(event_id)
    deliveries_send()
