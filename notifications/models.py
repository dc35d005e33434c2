"""The transactional outbox (public schema).

- ``OutboxEvent``: something happened in a tenant (an appointment changed, a customer was
  created, a scheduled job fell due). Written in the same transaction as the change itself.
- ``Delivery``: one message an installed plugin sends because of one event, to one recipient (an
  e-mail address or a webhook endpoint). Unique per (event, plugin, recipient): handling an event
  twice never sends twice. It is also the delivery log (attempts, status, latency).
- ``DueJob``: the index of periodic work that falls due (reminders, agendas, no-show checks), so
  finding what is due is one indexed query whatever the number of tenants.
"""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone


class OutboxEvent(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey("core.Tenant", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=64)
    # Blank: every installed plugin may react; set: only this plugin (a due job of its own).
    plugin = models.CharField(max_length=64, blank=True, default="")
    payload = models.JSONField(default=dict)
    occurred_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(dispatched_at__isnull=True),
                name="outbox_undispatched_idx",
            ),
            models.Index(fields=["tenant", "occurred_at"], name="outbox_tenant_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.public_id})"


class Channel(models.TextChoices):
    EMAIL = "EMAIL"
    WEBHOOK = "WEBHOOK"


class DeliveryStatus(models.TextChoices):
    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"  # gave up after the last attempt
    SKIPPED = "SKIPPED"  # nothing to send any more (unsubscribed, endpoint gone or disabled)
    CANCELLED = "CANCELLED"  # the plugin was uninstalled before it went out


class Delivery(models.Model):
    Status = DeliveryStatus
    Channel = Channel

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    tenant = models.ForeignKey("core.Tenant", on_delete=models.CASCADE, related_name="+")
    plugin = models.CharField(max_length=64)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    recipient = models.CharField(max_length=254)
    # What to send, rendered when the event was handled (an e-mail's parts, a webhook's body).
    message = models.JSONField(default=dict)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # A sender holds a delivery until then; a sender that died releases it by expiring.
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["event", "plugin", "recipient"], name="delivery_once_per_recipient"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in DeliveryStatus]),
                name="delivery_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(channel__in=[c.value for c in Channel]), name="delivery_channel_valid"
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="PENDING"),
                name="delivery_pending_idx",
            ),
            models.Index(fields=["tenant", "plugin", "created_at"], name="delivery_tenant_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.plugin} {self.channel} to {self.recipient}: {self.status}"


class DueJob(models.Model):
    """Work of one plugin for one tenant that falls due at ``due_at``. When it does, the sweep
    turns it into an ``OutboxEvent`` for that plugin and removes it, in one transaction."""

    tenant = models.ForeignKey("core.Tenant", on_delete=models.CASCADE, related_name="+")
    plugin = models.CharField(max_length=64)
    kind = models.CharField(max_length=32)
    key = models.CharField(max_length=128)
    due_at = models.DateTimeField()
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "kind", "key"], name="duejob_unique_key"),
        ]
        indexes = [models.Index(fields=["due_at"], name="duejob_due_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} due {self.due_at.isoformat()}"
