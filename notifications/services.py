"""Writes people make to the outbox (the rest of it is the machinery's own: claiming, sending and
recording deliveries, firing due jobs). Each is one transaction with its audit event."""

from __future__ import annotations

import logging

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from rest_framework.request import Request

from core.audit import security_event
from core.exceptions import Conflict
from notifications.delivery import send_refusal
from notifications.models import Delivery, DeliveryStatus
from notifications.tasks import enqueue, send_deliveries
from users.models import User

logger = logging.getLogger(__name__)


def delivery_redeliver(
    *, delivery: Delivery, actor: User, request: HttpRequest | Request | None = None
) -> Delivery:
    """Send a delivery again (a webhook the receiver lost, one that FAILED): back to PENDING,
    due now; a sender is asked for once this commits. Refused (409) for a CANCELLED delivery
    (its plugin was uninstalled) and for one that could not go out now anyway (the customer
    unsubscribed, the plugin is disabled or not on the plan)."""
    refusal = send_refusal(delivery)
    if refusal is not None:
        raise Conflict(
            f"This delivery cannot be sent again: {refusal.error}",
            code="delivery_not_redeliverable",
        )
    with transaction.atomic():
        changed = (
            Delivery.objects.filter(pk=delivery.pk)
            .exclude(status=DeliveryStatus.CANCELLED)
            .update(
                status=DeliveryStatus.PENDING,
                next_attempt_at=timezone.now(),
                claimed_until=None,
                sent_at=None,
            )
        )
        if not changed:
            raise Conflict(
                "A cancelled delivery (its plugin was uninstalled) is not sent again.",
                code="delivery_not_redeliverable",
            )
        security_event(
            "delivery_redelivered",
            request=request,
            actor=actor,
            subject=delivery,
            tenant=delivery.tenant,
            plugin=delivery.plugin,
            previous_status=delivery.status,
        )
        transaction.on_commit(_enqueue_send)
    delivery.refresh_from_db()
    return delivery


def _enqueue_send() -> None:
    try:
        enqueue(send_deliveries)
    except Exception:  # broker down: the sweep sends it
        logger.warning("could not enqueue the sender; the sweep will send")
