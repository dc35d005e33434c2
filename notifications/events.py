"""What happened, written into the outbox in the caller's transaction.

Services call ``event_emit`` once per change; the event row commits or rolls back with the
change, and only a committed event is handed to a Celery worker (``transaction.on_commit``).
A broker that is down loses nothing: the periodic sweep finds every event not yet dispatched.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction

from customers.models import Customer
from notifications.models import OutboxEvent
from tenancy.models import Tenant

logger = logging.getLogger(__name__)

APPOINTMENT_CREATED = "appointment.created"
APPOINTMENT_CONFIRMED = "appointment.confirmed"
APPOINTMENT_RESCHEDULED = "appointment.rescheduled"
APPOINTMENT_CANCELLED = "appointment.cancelled"
APPOINTMENT_COMPLETED = "appointment.completed"
APPOINTMENT_NO_SHOW = "appointment.no_show"
CUSTOMER_CREATED = "customer.created"

# What a status change is called as an event.
STATUS_EVENTS = {
    "CONFIRMED": APPOINTMENT_CONFIRMED,
    "CANCELLED": APPOINTMENT_CANCELLED,
    "COMPLETED": APPOINTMENT_COMPLETED,
    "NO_SHOW": APPOINTMENT_NO_SHOW,
}
APPOINTMENT_EVENTS = frozenset(
    {APPOINTMENT_CREATED, APPOINTMENT_RESCHEDULED, *STATUS_EVENTS.values()}
)
# The events tenants can subscribe to (webhooks), in the order they are documented.
PUBLIC_EVENTS = (
    APPOINTMENT_CREATED,
    APPOINTMENT_CONFIRMED,
    APPOINTMENT_RESCHEDULED,
    APPOINTMENT_CANCELLED,
    APPOINTMENT_COMPLETED,
    APPOINTMENT_NO_SHOW,
    CUSTOMER_CREATED,
)


def appointment_payload(appointment: Any) -> dict[str, Any]:
    """The appointment as webhooks and handlers see it (times in UTC, ISO-8601)."""
    customer, service = appointment.customer, appointment.service
    return {
        "id": str(appointment.public_id),
        "status": appointment.status,
        "starts_at": appointment.starts_at.isoformat(),
        "ends_at": appointment.ends_at.isoformat(),
        "price": str(appointment.price),
        "service": {"id": str(service.public_id), "name": service.name},
        "customer": {"id": str(customer.public_id), "name": customer.name, "email": customer.email},
        "resources": [
            {"id": str(a.resource.public_id), "name": a.resource.name, "type": a.resource.type}
            for a in appointment.allocations.select_related("resource").order_by("id")
        ],
    }


def customer_payload(customer: Customer) -> dict[str, Any]:
    return {
        "id": str(customer.public_id),
        "name": customer.name,
        "email": customer.email,
        "phone": customer.phone,
        "status": customer.status,
    }


# How a subject of some other type than a customer becomes a payload, registered from the
# ``AppConfig.ready()`` of the app that owns the type (appointments: ``appointment_payload``).
_payload_builders: dict[type, Callable[[Any], dict[str, Any]]] = {}


def register_payload_builder(subject_type: type, builder: Callable[[Any], dict[str, Any]]) -> None:
    _payload_builders[subject_type] = builder


def event_emit(*, tenant: Tenant, kind: str, subject: Any) -> OutboxEvent:
    """Record that ``kind`` happened to ``subject`` (an appointment or a customer) in the
    caller's transaction; a worker is asked to deliver it once that transaction commits."""
    builder = next(
        (b for t, b in _payload_builders.items() if isinstance(subject, t)), customer_payload
    )
    return event_record(tenant=tenant, kind=kind, payload=builder(subject))


def customer_created_emit(
    sender: Any, *, tenant: Tenant, customer: Customer, **kwargs: Any
) -> None:
    """``customers.signals.customer_created`` receiver: the ``customer.created`` event."""
    event_emit(tenant=tenant, kind=CUSTOMER_CREATED, subject=customer)


def event_record(
    *, tenant: Tenant, kind: str, payload: dict[str, Any], plugin: str = ""
) -> OutboxEvent:
    event = OutboxEvent.objects.create(tenant=tenant, kind=kind, payload=payload, plugin=plugin)
    transaction.on_commit(lambda: enqueue_dispatch(event.pk))
    return event


# What asks a worker to dispatch an event: ``notifications.tasks`` registers it from
# ``AppConfig.ready()``. The tasks send deliveries, and sending records events (a disabled
# webhook endpoint tells the owners), so this module cannot name the tasks.
_dispatchers: list[Callable[[int], None]] = []


def register_dispatcher(dispatcher: Callable[[int], None]) -> None:
    if dispatcher not in _dispatchers:
        _dispatchers.append(dispatcher)


def enqueue_dispatch(event_id: int) -> None:
    """Ask a worker to dispatch an event now. If the broker cannot be reached the event waits
    for the sweep: a booking never fails because Redis is down."""
    try:
        for dispatcher in _dispatchers:
            dispatcher(event_id)
    except Exception:  # any broker failure; the row is committed and the sweep will find it
        logger.warning("could not enqueue outbox event %s; the sweep will dispatch it", event_id)
