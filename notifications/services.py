"""Writes people make to the outbox (the rest of it is the machinery's own: claiming, sending and
recording deliveries, firing due jobs). Each is one transaction with its audit event."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.audit import security_event
from notifications.models import Delivery, DeliveryStatus

logger = logging.getLogger(__name__)


def delivery_redeliver(*, delivery: Delivery, actor: Any, request: Any = None) -> Delivery:
    """Send a delivery again (a webhook the receiver lost, one that FAILED): back to PENDING,
    due now; a sender is asked for once this commits."""
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.PENDING,
            next_attempt_at=timezone.now(),
            claimed_until=None,
            sent_at=None,
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
    from notifications.tasks import enqueue, send_deliveries

    try:
        enqueue(send_deliveries)
    except Exception:  # broker down: the sweep sends it
        logger.warning("could not enqueue the sender; the sweep will send")
