"""What a plugin is to the platform: a few hooks the marketplace and the outbox call.

Every hook runs inside the caller's transaction with the connection on the tenant's schema.
``on_event`` returns the messages (``notifications.handlers.Outgoing``) to send for one event;
the outbox turns each into a ``Delivery`` unique per (event, plugin, recipient), so running a
hook twice sends nothing twice.
"""

from __future__ import annotations

from typing import Any

from notifications.handlers import Outgoing
from notifications.models import OutboxEvent
from tenancy.models import Tenant


class Plugin:
    slug: str = ""
    # Event kinds ``on_event`` wants (appointment.*, customer.created, job.<kind> of its own).
    events: frozenset[str] = frozenset()

    def on_event(
        self, *, tenant: Tenant, event: OutboxEvent, settings: dict[str, Any]
    ) -> list[Outgoing]:
        return []

    def on_enable(self, *, tenant: Tenant, settings: dict[str, Any]) -> None:
        """Installed, enabled again or reconfigured: (re)schedule its work."""

    def on_disable(self, *, tenant: Tenant) -> None:
        """Disabled or uninstalled: cancel its scheduled work."""

    def on_uninstall(self, *, tenant: Tenant) -> None:
        """Remove its data from the tenant's schema (after ``on_disable``)."""
