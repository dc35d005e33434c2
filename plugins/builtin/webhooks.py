"""Webhooks: every public event, as a signed JSON POST to each endpoint that wants it.

The body is written when the event is handled (so every retry sends the same bytes); the
signature when it is sent (its timestamp must be fresh). Sending, signing, the SSRF guard and
disabling a failing endpoint live in ``notifications.webhooks``.
"""

from __future__ import annotations

import json
from typing import Any

from notifications import events
from notifications.email import email_outgoing
from notifications.handlers import Outgoing
from notifications.models import Channel, OutboxEvent
from plugin_data.models import WebhookEndpoint
from plugins.base import Plugin
from tenancy.models import Tenant
from users.models import User
from users.roles import Role

SLUG = "webhooks"


def webhook_body(*, kind: str, payload: dict[str, Any], occurred_at: str) -> str:
    return json.dumps(
        {"type": kind, "timestamp": occurred_at, "data": payload},
        separators=(",", ":"),
        sort_keys=True,
    )


class Webhooks(Plugin):
    slug = SLUG
    events = frozenset(events.PUBLIC_EVENTS) | {"job.webhook_disabled"}

    def on_event(
        self, *, tenant: Tenant, event: OutboxEvent, settings: dict[str, Any]
    ) -> list[Outgoing]:
        kind, payload = event.kind, event.payload
        if kind == "job.webhook_disabled":
            return self._tell_owners(tenant=tenant, payload=payload)
        body = webhook_body(kind=kind, payload=payload, occurred_at=event.occurred_at.isoformat())
        return [
            Outgoing(channel=Channel.WEBHOOK, recipient=str(endpoint.public_id),
                     message={"type": kind, "body": body})
            for endpoint in WebhookEndpoint.objects.filter(enabled=True).order_by("id")
            if not endpoint.event_types or kind in endpoint.event_types
        ]  # fmt: skip

    def _tell_owners(self, *, tenant: Tenant, payload: dict[str, Any]) -> list[Outgoing]:
        owners = User.objects.filter(tenant=tenant, role=Role.TENANT_OWNER, is_active=True)
        context = {
            "endpoint": {"url": payload["url"]},
            "failures": payload["failures"],
            "reason": payload["reason"],
        }
        return [
            email_outgoing(tenant=tenant, kind="webhook_disabled", to=owner.email, context=context)
            for owner in owners.order_by("id")
        ]

    def on_uninstall(self, *, tenant: Tenant) -> None:
        WebhookEndpoint.objects.all().delete()
