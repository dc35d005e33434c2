"""Writes of platform records: tenants and their domains. Each is one transaction with its audit."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django_tenants.utils import tenant_context

from core.audit import security_event
from core.exceptions import Conflict, DomainError
from core.models import Domain, Tenant
from core.uploads import ValidatedImage, image_field_replace
from core.validators import (
    CORS_ORIGINS_MAX,
    cors_origin_normalized,
    validate_hostname,
    validate_schema_name,
    validate_timezone,
)


def _validated(validator: Any, field: str, value: str) -> None:
    try:
        validator(value)
    except ValidationError as error:
        raise DomainError(
            error.messages[0], code="invalid", fields={field: error.messages}
        ) from None


def tenant_provision(
    *,
    name: str,
    schema_name: str,
    domain: str,
    subscription_tier: str = Tenant.Tier.FREE,
    status: str = Tenant.Status.ACTIVE,
    timezone: str = "UTC",
    cancellation_window_hours: int = 24,
    late_cancellation_fee_percent: Decimal = Decimal("0"),
    actor: Any = None,
    request: Any = None,
) -> Tenant:
    """Create a tenant, its schema (every tenant table) and its primary domain, all or nothing."""
    _validated(validate_schema_name, "schema_name", schema_name)
    _validated(validate_hostname, "domain", domain.lower())
    _validated(validate_timezone, "timezone", timezone)
    if Tenant.objects.filter(schema_name=schema_name).exists():
        raise Conflict(
            f"A tenant with schema '{schema_name}' already exists.",
            fields={"schema_name": ["This schema name is taken."]},
        )
    if Domain.objects.filter(domain=domain.lower()).exists():
        raise Conflict(
            f"The domain '{domain}' is already in use.",
            fields={"domain": ["This domain is taken."]},
        )
    tenant = Tenant(
        name=name,
        schema_name=schema_name,
        subscription_tier=subscription_tier,
        status=status,
        timezone=timezone,
        cancellation_window_hours=cancellation_window_hours,
        late_cancellation_fee_percent=late_cancellation_fee_percent,
    )
    tenant.audit_creation = False  # recorded here, with its actor (core.signals)
    with transaction.atomic():
        try:
            with transaction.atomic():
                tenant.save(verbosity=0)
                Domain.objects.create(domain=domain, tenant=tenant, is_primary=True)
        except IntegrityError as error:  # lost a race for the same schema name or domain
            raise Conflict("The schema name or domain was taken meanwhile; try another.") from error
        _audit_tenant_created(tenant, actor=actor, request=request)
    return tenant


def _audit_tenant_created(tenant: Tenant, *, actor: Any, request: Any = None) -> None:
    security_event(
        "tenant_created",
        request=request,
        actor=actor,
        subject=tenant,
        tenant=tenant,
        tenant_schema=tenant.schema_name,
        tenant_name=tenant.name,
        subscription_tier=tenant.subscription_tier,
    )


@transaction.atomic
def tenant_update(*, tenant: Tenant, actor: Any, request: Any = None, **changes: Any) -> Tenant:
    """Change a tenant's plan, status or policies. Suspension and reactivation are audited."""
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    if "timezone" in changes:
        _validated(validate_timezone, "timezone", changes["timezone"])
    previous_status = tenant.status
    for field, value in changes.items():
        setattr(tenant, field, value)
    tenant.save()
    event = "tenant_updated"
    if tenant.status != previous_status:
        event = "tenant_suspended" if tenant.is_suspended else "tenant_status_changed"
    security_event(
        event,
        request=request,
        actor=actor,
        subject=tenant,
        tenant=tenant,
        tenant_schema=tenant.schema_name,
        fields=sorted(changes),
        previous_status=previous_status,
        status=tenant.status,
    )
    return tenant


@transaction.atomic
def tenant_cors_origins_set(
    *, tenant: Tenant, origins: Sequence[str], actor: Any, request: Any = None
) -> Tenant:
    """Replace the browser origins allowed to call the API on ``tenant``'s hosts (written as
    browsers send them, duplicates dropped). Every worker's next request sees the new list."""
    normalized: list[str] = []
    problems: list[str] = []
    for origin in origins:
        try:
            normalized.append(cors_origin_normalized(origin))
        except ValidationError as error:
            problems.extend(error.messages)
    normalized = list(dict.fromkeys(normalized))
    if len(normalized) > CORS_ORIGINS_MAX:
        problems.append(f"At most {CORS_ORIGINS_MAX} origins.")
    if problems:
        raise DomainError(problems[0], code="invalid", fields={"cors_allowed_origins": problems})
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    previous = list(tenant.cors_allowed_origins)
    tenant.cors_allowed_origins = normalized
    tenant.save(update_fields=["cors_allowed_origins", "updated_at"])
    security_event(
        "tenant_cors_origins_changed",
        request=request,
        actor=actor,
        tenant_schema=tenant.schema_name,
        previous=previous,
        origins=normalized,
    )
    return tenant


@transaction.atomic
def tenant_public_booking_set(
    *, tenant: Tenant, enabled: bool, actor: Any, request: Any = None
) -> Tenant:
    """Switch the public booking pages (guest booking without an account) on or off. Every
    worker's next request sees it."""
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    previous = tenant.public_booking_enabled
    tenant.public_booking_enabled = enabled
    tenant.save(update_fields=["public_booking_enabled", "updated_at"])
    security_event(
        "tenant_public_booking_changed",
        request=request,
        actor=actor,
        tenant_schema=tenant.schema_name,
        previous=previous,
        enabled=enabled,
    )
    return tenant


def tenant_logo_set(
    *, tenant: Tenant, image: ValidatedImage | None, actor: Any, request: Any = None
) -> Tenant:
    """Store ``image`` (from ``core.uploads.validated_image``) as the tenant's logo; None removes
    it. The file goes under the tenant's own media prefix whichever host this runs on."""
    with tenant_context(tenant):
        tenant = Tenant.objects.get(pk=tenant.pk)

        def audit(previous: str, stored: str) -> None:
            security_event(
                "tenant_logo_changed" if stored else "tenant_logo_removed",
                request=request,
                actor=actor,
                subject=tenant,
                tenant=tenant,
                tenant_schema=tenant.schema_name,
                previous_file=previous,
                file=stored,
                content_type=image.content_type if image else None,
            )

        if image is not None or tenant.logo:
            image_field_replace(instance=tenant, field="logo", image=image, audit=audit)
    return tenant
