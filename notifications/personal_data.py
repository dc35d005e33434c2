"""The outbox's part in erasing a customer's personal data (``customers.personal_data``)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from customers.models import Customer
from notifications.models import Delivery, DeliveryStatus, OutboxEvent
from tenancy.models import Tenant


def erase_outbox_copies(*, tenant: Tenant, customer: Customer, emails: set[str]) -> dict[str, Any]:
    """The outbox's copies of an erased customer (public schema, this tenant's rows): events
    about it or its appointments get the placeholder name and no contact details; messages to or
    about it lose their rendered text and recipient, and those not yet sent are cancelled."""
    public_id = str(customer.public_id)
    events = list(
        OutboxEvent.objects.select_for_update()
        .filter(tenant=tenant)
        .filter(Q(payload__customer__id=public_id) | Q(payload__id=public_id))
    )
    for event in events:
        person = event.payload.get("customer") if event.payload.get("id") != public_id else None
        target = person if isinstance(person, dict) else event.payload
        target.update({key: "" for key in ("email", "phone") if key in target}, name=customer.name)
        event.save(update_fields=["payload"])
    deliveries = (
        Delivery.objects.select_for_update()
        .filter(tenant=tenant)
        .filter(Q(event__in=events) | Q(recipient__in=emails, channel=Delivery.Channel.EMAIL))
    )
    for delivery in deliveries:
        delivery.message = {}
        if delivery.channel == Delivery.Channel.EMAIL:
            delivery.recipient = f"erased:{delivery.public_id}"
        if delivery.status == DeliveryStatus.PENDING:
            delivery.status = DeliveryStatus.CANCELLED
            delivery.last_error = "The customer's personal data was erased."
        delivery.save(update_fields=["message", "recipient", "status", "last_error"])
    return {"outbox_scrubbed": len(events)}
