"""What the plugins keep in each tenant's schema: webhook endpoints, e-mail template overrides,
customers' e-mail preferences and reviews. Uninstalling a plugin removes its rows here."""

import uuid

from django.db import models
from django.db.models import Q

from core.models import PublicRecord


class WebhookEndpoint(PublicRecord):
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True, default="")
    # Event kinds it receives; empty: every kind.
    event_types = models.JSONField(default=list, blank=True)
    # Standard Webhooks secret ("whsec_" + base64 key). Shown once, at creation and rotation.
    secret = models.CharField(max_length=100)
    enabled = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.url


class EmailTemplate(models.Model):
    """A tenant's own version of one e-mail (Jinja2, rendered in a sandbox)."""

    kind = models.CharField(max_length=32)
    subject = models.CharField(max_length=300)
    text_body = models.TextField()
    html_body = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind"]
        # A constraint rather than unique=True: no second (LIKE) index, no query searches kinds.
        constraints = [models.UniqueConstraint(fields=["kind"], name="email_template_kind_unique")]

    def __str__(self) -> str:
        return self.kind


class CustomerPreference(models.Model):
    """How a customer wants to hear from the business: timezone, and whether at all."""

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, related_name="preference"
    )
    timezone = models.CharField(max_length=64, blank=True, default="")
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.customer}: {self.timezone or 'business timezone'}"


class Review(models.Model):
    """A customer's rating of a completed appointment, left through a signed single-use link."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    appointment = models.OneToOneField(
        "appointments.Appointment", on_delete=models.CASCADE, related_name="review"
    )
    service = models.ForeignKey("catalog.Service", on_delete=models.CASCADE, related_name="reviews")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="reviews"
    )
    rating = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True, default="")
    reply = models.TextField(blank=True, default="")
    replied_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__gte=1, rating__lte=5), name="review_rating_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rating}/5 for {self.service}"
