"""The marketplace (public schema): the catalogue, which tenant installed what, and ratings.

Install counts and rating averages are kept by the database: every write that changes them
locks the plugin's row first and rewrites the figures from a count of the rows it owns, in the
same transaction (``plugins.services``), so they always equal a recount.
"""

import uuid

from django.conf import settings as django_settings
from django.db import models
from django.db.models import Q

from core.models import PublicRecord


class Category(models.TextChoices):
    NOTIFICATIONS = "NOTIFICATIONS"
    INTEGRATIONS = "INTEGRATIONS"
    CALENDAR = "CALENDAR"
    REPORTS = "REPORTS"
    CUSTOMERS = "CUSTOMERS"


class PluginTemplate(PublicRecord):
    """A plugin of the catalogue. Platform plugins are shipped as data (``sync_plugins``)."""

    Category = Category

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    author = models.CharField(max_length=100)
    version = models.CharField(max_length=32)
    short_description = models.CharField(max_length=200)
    description = models.TextField(help_text="Full description: paragraphs and '- ' bullets.")
    category = models.CharField(max_length=16, choices=Category.choices)
    icon = models.CharField(max_length=64, help_text="Icon name of the front end's icon set.")
    required_permissions = models.JSONField(
        default=list, help_text="What it reads or does, shown before install: [{code, label}]."
    )
    settings_schema = models.JSONField(default=dict, help_text="JSON Schema with defaults.")
    allowed_tiers = models.JSONField(default=list)
    is_platform = models.BooleanField(default=False)
    install_count = models.PositiveIntegerField(default=0)
    rating_count = models.PositiveIntegerField(default=0)
    rating_average = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(category__in=[c.value for c in Category]),
                name="plugintemplate_category_valid",
            ),
            models.CheckConstraint(
                condition=Q(rating_average__isnull=True)
                | Q(rating_average__gte=1, rating_average__lte=5),
                name="plugintemplate_rating_average_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


class PluginInstallation(models.Model):
    """A plugin installed by one tenant, with its validated settings."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(
        "core.Tenant", on_delete=models.CASCADE, related_name="plugin_installations"
    )
    plugin = models.ForeignKey(
        PluginTemplate, on_delete=models.PROTECT, related_name="installations"
    )
    settings = models.JSONField(default=dict)
    enabled = models.BooleanField(default=True)
    accepted_permissions = models.JSONField(default=list)
    installed_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    installed_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["plugin__name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "plugin"], name="plugin_installed_once"),
        ]

    def __str__(self) -> str:
        return f"{self.plugin.slug} on {self.tenant.schema_name}"


class PluginRating(models.Model):
    """One rating per tenant and plugin; rating again changes it."""

    tenant = models.ForeignKey("core.Tenant", on_delete=models.CASCADE, related_name="+")
    plugin = models.ForeignKey(PluginTemplate, on_delete=models.CASCADE, related_name="ratings")
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True, default="")
    rated_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "plugin"], name="plugin_rated_once"),
            models.CheckConstraint(
                condition=Q(score__gte=1, score__lte=5), name="plugin_rating_score_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plugin.slug}: {self.score}/5 by {self.tenant_id}"
