import uuid

from django.db import models
from django.db.models import F, Q


class MasqueradeSession(models.Model):
    """One masquerade, from its start to its end: who became whom, why, through which door and
    until when. A privileged session is its own short-lived record (Sentry's superuser session
    reads the same way); sessions and tokens that carry it die with it."""

    class Channel(models.TextChoices):
        ADMIN = "ADMIN", "Admin (browser session)"
        API = "API", "API (masquerade token)"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    hijacker = models.ForeignKey(
        "users.User", on_delete=models.PROTECT, related_name="masquerades_started"
    )
    hijacked = models.ForeignKey(
        "users.User", on_delete=models.PROTECT, related_name="masquerades_suffered"
    )
    tenant = models.ForeignKey(
        "core.Tenant", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    reason = models.TextField(blank=True, default="")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True, default="")
    started_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=32, blank=True, default="")
    # Never the session key or token itself (a usable credential): its keyed fingerprint
    # (core.masquerade.services.session_fingerprint), which ties log lines to one session.
    session_digest = models.CharField(max_length=64, blank=True, default="")
    # Admin hand-off to the tenant's host: only a digest of the one-time ticket is stored.
    handoff_digest = models.CharField(max_length=64, null=True, blank=True, unique=True)
    handoff_host = models.CharField(max_length=253, blank=True, default="")
    handoff_expires_at = models.DateTimeField(null=True, blank=True)
    handoff_used_at = models.DateTimeField(null=True, blank=True)
    return_url = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(hijacker=F("hijacked")), name="masquerade_not_self"
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("started_at")), name="masquerade_expires_after_start"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=["ADMIN", "API"]), name="masquerade_channel_valid"
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | ~Q(end_reason=""),
                name="masquerade_end_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.hijacker_id} as {self.hijacked_id} ({self.channel})"

    def is_live(self, at) -> bool:
        return self.ended_at is None and at < self.expires_at
