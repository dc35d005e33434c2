"""Sending deliveries: claim a batch, send each, record each outcome on its own.

A sender claims due deliveries for ``NOTIFICATIONS_LEASE_SECONDS`` (``SKIP LOCKED``: senders never
wait for each other), then sends them one by one and records every outcome in its own statement
right after the send. A sender killed mid-batch therefore leaves the sent ones SENT and the rest
claimed until the lease runs out, when another sender takes them: nothing is lost, and only a
message whose send had completed but whose outcome was not yet written can go twice — it carries
the same Message-ID / webhook-id both times so receivers can drop the copy.

Fencing (``Fence``): right before sending, the sender renews its claim on the next few deliveries
with a conditional update (``WHERE claimed_until = <its own lease>``); a sender whose lease ran
out and was taken over by another finds no row and skips those messages, and their outcome is not
written either. A send is bounded
(webhooks: ``WEBHOOK_TIMEOUT_SECONDS`` overall; e-mail: ``EMAIL_TIMEOUT``), well inside a lease.

Each send also checks that it may still go out (``SendChecks``, read once per batch): the plugin is
still installed, enabled and on the tenant's plan, and a customer's e-mail is not sent once they
unsubscribed (SKIPPED). Deliveries of a suspended tenant are not claimed: they wait until it is
reinstated.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django_tenants.utils import tenant_context

from notifications.handlers import handler_active
from notifications.models import Channel, Delivery, DeliveryStatus
from notifications.outbox import retry_delay
from plugin_data.models import CustomerPreference
from tenancy.models import Tenant

logger = logging.getLogger(__name__)

FENCE_CHUNK = 10  # deliveries whose claim one renewal covers (see ``Fence``)


@dataclass(frozen=True)
class Outcome:
    ok: bool
    error: str = ""
    response_status: int | None = None
    latency_ms: int | None = None
    # The message can never be sent (endpoint removed, customer unsubscribed): stop trying.
    skip: bool = False
    # The endpoint itself is at fault: counts towards disabling it.
    endpoint_failure: bool = False


def deliveries_claim(*, now: datetime | None = None, limit: int | None = None) -> list[Delivery]:
    now = now or timezone.now()
    limit = limit or settings.NOTIFICATIONS_BATCH_SIZE
    lease = now + timedelta(seconds=settings.NOTIFICATIONS_LEASE_SECONDS)
    with transaction.atomic():
        ids = list(
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .exclude(tenant__status=Tenant.Status.SUSPENDED)
            .order_by("next_attempt_at", "id")
            .values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return []
        Delivery.objects.filter(pk__in=ids).update(claimed_until=lease)
    return list(Delivery.objects.filter(pk__in=ids).select_related("tenant").order_by("id"))


def delivery_fence(delivery: Delivery, *, now: datetime | None = None) -> bool:
    """Renew this sender's claim on ``delivery`` right before sending it: True when it is still
    ours (and now held for a full lease again), False when another sender took it over or it
    is no longer PENDING (then it must not be sent)."""
    return delivery.pk in _renew([delivery], now=now)


def _renew(deliveries: list[Delivery], *, now: datetime | None = None) -> set[int]:
    """Renew the claim on each of ``deliveries`` still held with the lease this sender holds
    (one conditional UPDATE per lease value); the ids still ours."""
    now = now or timezone.now()
    lease = now + timedelta(seconds=settings.NOTIFICATIONS_LEASE_SECONDS)
    by_lease: dict[datetime | None, list[int]] = defaultdict(list)
    for delivery in deliveries:
        by_lease[delivery.claimed_until].append(delivery.pk)
    for held, pks in by_lease.items():
        Delivery.objects.filter(
            pk__in=pks, status=DeliveryStatus.PENDING, claimed_until=held
        ).update(claimed_until=lease)
    ours = set(
        Delivery.objects.filter(
            pk__in=[d.pk for d in deliveries], status=DeliveryStatus.PENDING, claimed_until=lease
        ).values_list("pk", flat=True)
    )
    for delivery in deliveries:
        if delivery.pk in ours:
            delivery.claimed_until = lease
    return ours


class Fence:
    """The fencing of one batch: before a delivery is sent, the claim on it and the next few
    (``FENCE_CHUNK``) is renewed with a conditional UPDATE on this sender's own lease, so a
    sender whose lease ran out (and was taken over) sends nothing more. A chunk is sent well
    inside the renewed lease: each send is bounded (webhooks: ``WEBHOOK_TIMEOUT_SECONDS``;
    e-mail: ``EMAIL_TIMEOUT``) and the chunk is renewed again once half a lease has passed."""

    def __init__(self, deliveries: list[Delivery]) -> None:
        self._deliveries = deliveries
        self._position = {d.pk: i for i, d in enumerate(deliveries)}
        self._checked: set[int] = set()
        self._ours: set[int] = set()
        self._renewed_at = 0.0

    def holds(self, delivery: Delivery) -> bool:
        stale = time.monotonic() - self._renewed_at > settings.NOTIFICATIONS_LEASE_SECONDS / 2
        if delivery.pk not in self._checked or stale:
            start = self._position[delivery.pk]
            chunk = self._deliveries[start : start + FENCE_CHUNK]
            self._ours = _renew(chunk)
            self._checked = {d.pk for d in chunk}
            self._renewed_at = time.monotonic()
        return delivery.pk in self._ours


class SendChecks:
    """Whether the deliveries of one batch may still go out, read once for the batch (a few
    queries per tenant, not per message): the plugin still runs for the tenant (installed,
    enabled, on its plan), and which of the batch's customer addresses unsubscribed."""

    def __init__(self, deliveries: list[Delivery]) -> None:
        self._active: dict[tuple[int, str], bool] = {}
        self._unsubscribed: dict[int, set[str]] = {}
        self._addresses: dict[int, set[str]] = defaultdict(set)
        for delivery in deliveries:
            if _to_a_customer(delivery):
                self._addresses[delivery.tenant_id].add(delivery.recipient.lower())

    def refusal(self, delivery: Delivery) -> Outcome | None:
        """Why ``delivery`` may no longer go out (a skip), else None."""
        key = (delivery.tenant_id, delivery.plugin)
        if key not in self._active:
            # The platform's own e-mails (a guest's booking confirmation) need no installation.
            self._active[key] = handler_active(tenant=delivery.tenant, slug=delivery.plugin)
        if not self._active[key]:
            return Outcome(
                ok=False, skip=True,
                error="The plugin is no longer installed, enabled or on the plan.",
            )  # fmt: skip
        if _to_a_customer(delivery):
            if delivery.tenant_id not in self._unsubscribed:
                self._unsubscribed[delivery.tenant_id] = _unsubscribed(
                    delivery.tenant,
                    self._addresses[delivery.tenant_id] | {delivery.recipient.lower()},
                )
            if delivery.recipient.lower() in self._unsubscribed[delivery.tenant_id]:
                return Outcome(ok=False, skip=True, error="The customer unsubscribed.")
        return None


def _to_a_customer(delivery: Delivery) -> bool:
    # Customers' e-mails (and only theirs) carry List-Unsubscribe.
    return delivery.channel == Channel.EMAIL and bool(
        delivery.message.get("headers", {}).get("List-Unsubscribe")
    )


def _unsubscribed(tenant: Tenant, addresses: set[str]) -> set[str]:
    with tenant_context(tenant):
        return set(
            CustomerPreference.objects.filter(unsubscribed_at__isnull=False)
            .annotate(address=Lower("customer__email"))
            .filter(address__in=sorted(addresses))
            .values_list("address", flat=True)
        )


def send_refusal(delivery: Delivery) -> Outcome | None:
    """Why ``delivery`` may no longer go out (a skip), else None."""
    return SendChecks([delivery]).refusal(delivery)


def delivery_record(delivery: Delivery, outcome: Outcome, *, now: datetime | None = None) -> None:
    """Write what one attempt did, as one conditional statement (only while still PENDING and
    still claimed by this sender)."""
    now = now or timezone.now()
    attempts = delivery.attempts + 1
    fields: dict = {
        "attempts": attempts,
        "last_attempt_at": now,
        "claimed_until": None,
        "response_status": outcome.response_status,
        "latency_ms": outcome.latency_ms,
        "last_error": outcome.error[:2000],
    }
    if outcome.ok:
        fields |= {"status": DeliveryStatus.SENT, "sent_at": now}
    elif outcome.skip:
        fields |= {"status": DeliveryStatus.SKIPPED}
    elif attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
        fields |= {"status": DeliveryStatus.FAILED}
    else:
        fields |= {"next_attempt_at": now + retry_delay(attempts)}
    Delivery.objects.filter(
        pk=delivery.pk, status=DeliveryStatus.PENDING, claimed_until=delivery.claimed_until
    ).update(**fields)
    for key, value in fields.items():
        setattr(delivery, key, value)


def next_pending_at() -> datetime | None:
    """When the earliest delivery still waiting for a retry is due."""
    return (
        Delivery.objects.filter(status=DeliveryStatus.PENDING)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )


def monotonic_ms(start: float) -> int:
    return int((time.monotonic() - start) * 1000)
