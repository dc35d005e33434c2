import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Lower
from django.db.models.lookups import Regex
from django_tenants.models import DomainMixin, TenantMixin
from django_tenants.utils import schema_exists

from core.identifiers import new_verification_token
from core.validators import (
    CORS_ORIGIN_PATTERN,
    CORS_ORIGINS_MAX,
    RESERVED_SCHEMA_NAMES,
    SCHEMA_NAME_PATTERN,
    validate_cors_origin,
    validate_custom_hostname,
    validate_hostname,
    validate_schema_name,
    validate_timezone,
)
from tenancy.provisioning import schema_clone, template_ensure


class Tier(models.TextChoices):
    FREE = "FREE"
    PROFESSIONAL = "PROFESSIONAL"
    BUSINESS = "BUSINESS"
    ENTERPRISE = "ENTERPRISE"


class TenantStatus(models.TextChoices):
    ACTIVE = "ACTIVE"
    TRIAL = "TRIAL"
    SUSPENDED = "SUSPENDED"


class Verification(models.TextChoices):
    PENDING = "PENDING"
    VERIFIED = "VERIFIED"
    FAILED = "FAILED"


class Tenant(TenantMixin):
    """One business. Its scheduling data lives in the PostgreSQL schema ``schema_name``."""

    Tier = Tier
    Status = TenantStatus

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=100)
    schema_name = models.CharField(max_length=63, unique=True, validators=[validate_schema_name])
    subscription_tier = models.CharField(max_length=16, choices=Tier.choices, default=Tier.FREE)
    status = models.CharField(
        max_length=16, choices=TenantStatus.choices, default=TenantStatus.ACTIVE
    )
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    cancellation_window_hours = models.PositiveIntegerField(default=24)
    late_cancellation_fee_percent = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    # Stored by the tenant-aware default storage under tenants/<schema>/ (core.storage).
    logo = models.FileField(upload_to="logos/", blank=True, default="", max_length=255)
    # Browser origins (the business's own booking site) that may call the API on this tenant's
    # hosts, besides the platform-wide CORS_ALLOWED_ORIGINS (tenancy.cors).
    cors_allowed_origins = ArrayField(
        models.CharField(max_length=200, validators=[validate_cors_origin]),
        default=list,
        blank=True,
        size=CORS_ORIGINS_MAX,
    )
    # Set when an operator schedules the tenant's deletion: from then on its hosts answer 410
    # (core.middleware), and once this time has passed core.tasks.purge_deleted_tenants drops its
    # schema and deletes it. Cleared by cancelling within the grace period (tenancy.services).
    deletion_due_at = models.DateTimeField(null=True, blank=True)
    # Public booking pages (appointments.api.public): the catalogue, availability, slot holds and
    # guest booking without an account on this tenant's hosts. Off: those endpoints answer 404.
    public_booking_enabled = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    auto_create_schema = True

    class Meta:
        app_label = "core"
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(schema_name__regex=SCHEMA_NAME_PATTERN)
                & ~models.Q(schema_name__in=sorted(RESERVED_SCHEMA_NAMES))
                & ~models.Q(schema_name__startswith="pg_"),
                name="tenant_schema_name_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(subscription_tier__in=[t.value for t in Tier]),
                name="tenant_tier_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in TenantStatus]),
                name="tenant_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(late_cancellation_fee_percent__gte=0)
                & models.Q(late_cancellation_fee_percent__lte=100),
                name="tenant_fee_percent_range",
            ),
            models.CheckConstraint(
                condition=models.Q(cancellation_window_hours__lte=24 * 30),
                name="tenant_cancellation_window_range",
            ),
            models.CheckConstraint(
                # Q & a lookup is a Q at run time; django-stubs type it as Combinable.
                condition=models.Q(cors_allowed_origins__len__lte=CORS_ORIGINS_MAX)  # type: ignore[arg-type]
                & Regex(
                    models.Func(
                        "cors_allowed_origins",
                        models.Value(" "),
                        function="array_to_string",
                        output_field=models.TextField(),
                    ),
                    f"^({CORS_ORIGIN_PATTERN}( |$))*$",
                ),
                name="tenant_cors_allowed_origins_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.schema_name})"

    def save(self, *args, **kwargs) -> None:
        # Tenant.objects.create() skips full_clean(): a bad name must never reach CREATE SCHEMA.
        validate_schema_name(self.schema_name)
        validate_timezone(self.timezone)
        super().save(*args, **kwargs)

    def create_schema(self, check_if_exists=False, sync_schema=True, verbosity=1) -> bool:
        """Clone the migrated template schema (fast) rather than replaying every migration."""
        if not sync_schema:
            return super().create_schema(check_if_exists, sync_schema, verbosity)
        validate_schema_name(self.schema_name)
        if check_if_exists and schema_exists(self.schema_name):
            return False
        template_ensure(verbosity=0)
        schema_clone(source=settings.TENANT_TEMPLATE_SCHEMA, target=self.schema_name)
        return True

    @property
    def is_suspended(self) -> bool:
        return self.status == self.Status.SUSPENDED

    @property
    def is_pending_deletion(self) -> bool:
        return self.deletion_due_at is not None


class Domain(DomainMixin):
    """A host name that routes to one tenant (a platform subdomain or the tenant's own domain)."""

    Verification = Verification

    domain = models.CharField(max_length=253, unique=True, validators=[validate_hostname])
    is_custom_domain = models.BooleanField(default=False)
    route53_zone_id = models.CharField(max_length=32, blank=True, default="")
    verification_status = models.CharField(
        max_length=16, choices=Verification.choices, default=Verification.PENDING
    )
    verification_checked_at = models.DateTimeField(null=True, blank=True)
    verification_error = models.TextField(blank=True, default="")
    # Not a secret: the tenant publishes it in DNS, and is shown it again whenever it asks.
    verification_token = models.CharField(
        max_length=64, default=new_verification_token, editable=False
    )
    # The CNAME the platform created in Route53 for this domain, exactly (value and TTL), so that
    # removal deletes that record and nothing else; empty when the platform created none.
    route53_record_value = models.CharField(max_length=253, blank=True, default="")
    route53_record_ttl = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "core"
        ordering = ["domain"]
        constraints = [
            models.UniqueConstraint(Lower("domain"), name="domain_domain_ci_unique"),
            models.CheckConstraint(
                condition=models.Q(verification_status__in=[v.value for v in Verification]),
                name="domain_verification_status_valid",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(route53_record_value="", route53_record_ttl__isnull=True)
                    | (
                        ~models.Q(route53_record_value="")
                        & models.Q(route53_record_ttl__isnull=False)
                    )
                ),
                name="domain_route53_record_value_and_ttl_together",
            ),
        ]

    def __str__(self) -> str:
        return self.domain

    def save(self, *args, **kwargs) -> None:
        self.domain = (self.domain or "").strip().lower()
        validate_hostname(self.domain)
        if self.is_custom_domain:
            validate_custom_hostname(self.domain)
        super().save(*args, **kwargs)

    @property
    def serves_tenant(self) -> bool:
        """Custom domains route to their tenant only once DNS proved they point at us."""
        return not self.is_custom_domain or self.verification_status == self.Verification.VERIFIED
