"""Sending every due delivery through its channel's sender (e-mail, webhooks). The claiming,
fencing and recording of each outcome are ``notifications.delivery``'s."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from notifications.delivery import deliveries_claim
from notifications.email import emails_send
from notifications.models import Channel, Delivery
from notifications.webhooks import webhooks_send


def _senders() -> dict[str, Callable[[list[Delivery]], None]]:
    return {Channel.EMAIL: emails_send, Channel.WEBHOOK: webhooks_send}


def deliveries_send(*, max_batches: int = 1000) -> int:
    """Send every due delivery, batch after batch; returns how many attempts were made."""
    senders = _senders()
    attempted = 0
    for _ in range(max_batches):
        batch = deliveries_claim()
        if not batch:
            break
        by_channel: dict[str, list[Delivery]] = defaultdict(list)
        for delivery in batch:
            by_channel[delivery.channel].append(delivery)
        for channel, deliveries in by_channel.items():
            senders[channel](deliveries)
        attempted += len(batch)
    return attempted
