"""The booking confirmation a guest gets by e-mail, through the outbox: a platform handler that
runs for every business, installed plugins or not (``notifications.handlers.platform_handlers``).

It answers ``appointment.created`` and ``appointment.confirmed`` for appointments booked on the
public booking page (no signed-in user booked them) and writes one e-mail with the signed manage
links, made when the event is handled, for the appointment as it is then: the links are never
part of the event itself, so webhooks and the outbox's payloads never carry them.
"""

from __future__ import annotations

from typing import Any

from appointments.event_context import (
    OPEN,
    appointment_for,
    appointment_summary,
    customer_timezone,
)
from appointments.manage_links import manage_tokens, manage_urls
from notifications import events
from notifications.email import email_outgoing
from notifications.handlers import Outgoing
from notifications.models import OutboxEvent
from tenancy.models import Tenant

SLUG = "booking-confirmation"


class GuestBookingConfirmation:
    slug = SLUG
    events = frozenset({events.APPOINTMENT_CREATED, events.APPOINTMENT_CONFIRMED})

    def on_event(
        self, *, tenant: Tenant, event: OutboxEvent, settings: dict[str, Any]
    ) -> list[Outgoing]:
        appointment = appointment_for(event.payload)
        if appointment is None or appointment.status not in OPEN:
            return []
        if appointment.created_by_id is not None:  # booked by a signed-in user: not a guest
            return []
        customer = appointment.customer
        if not customer.email:
            return []
        tz = customer_timezone(tenant=tenant, customer=customer)
        urls = manage_urls(
            tenant=tenant, tokens=manage_tokens(tenant=tenant, appointment=appointment)
        )
        context = {
            "customer": {"name": customer.name},
            "appointment": {**appointment_summary(appointment, tz), "status": appointment.status},
            "manage": {
                "view_url": urls["view"],
                "cancel_url": urls["cancel"],
                "reschedule_url": urls["reschedule"],
            },
        }
        return [
            email_outgoing(
                tenant=tenant, kind="booking_confirmation", to=customer.email, context=context
            )
        ]
