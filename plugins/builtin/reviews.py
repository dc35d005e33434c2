"""Review requests: after COMPLETED, an e-mail with a signed single-use link; the customer rates
1-5 and comments without signing in (``plugins.services_reviews``)."""

from __future__ import annotations

from typing import Any

from appointments.event_context import appointment_for, customer_reachable, customer_timezone, local
from notifications import events
from notifications.email import email_outgoing
from notifications.handlers import Outgoing
from notifications.links import review_url, unsubscribe_url
from notifications.models import OutboxEvent
from plugin_data.models import Review
from plugins.base import Plugin
from tenancy.models import Tenant

SLUG = "review-requests"


class ReviewRequests(Plugin):
    slug = SLUG
    events = frozenset({events.APPOINTMENT_COMPLETED})

    def on_event(
        self, *, tenant: Tenant, event: OutboxEvent, settings: dict[str, Any]
    ) -> list[Outgoing]:
        appointment = appointment_for(event.payload)
        if appointment is None or appointment.status != "COMPLETED":
            return []
        customer = appointment.customer
        if (
            not customer_reachable(customer)
            or Review.objects.filter(appointment=appointment).exists()
        ):
            return []
        tz = customer_timezone(tenant=tenant, customer=customer)
        link = unsubscribe_url(tenant=tenant, customer=customer)
        context = {
            "customer": {"name": customer.name},
            "appointment": {
                "service": appointment.service.name,
                "starts_at": local(appointment.starts_at, tz),
            },
            "review_url": review_url(tenant=tenant, appointment=appointment),
            "unsubscribe_url": link,
        }
        return [
            email_outgoing(
                tenant=tenant, kind="review_request", to=customer.email, context=context,
                unsubscribe_url=link,
            )
        ]  # fmt: skip

    def on_uninstall(self, *, tenant: Tenant) -> None:
        Review.objects.all().delete()
