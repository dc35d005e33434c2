"""Writes of platform records: tenants and their domains. Each is one transaction with its audit."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django_tenants.utils import tenant_context

from core import clock
from core.audit import security_event
from core.exceptions import Conflict, DomainError
from core.uploads import ValidatedImage, image_field_replace
from core.validators import (
    CORS_ORIGINS_MAX,
    cors_origin_normalized,
    validate_hostname,
    validate_schema_name,
    validate_timezone,
)
from tenancy.models import Domain, Tenant

logger = logging.getLogger(__name__)


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
    with transaction.atomic():
        tenant = tenant_rows_create(
            name=name,
            schema_name=schema_name,
            domain=domain,
            subscription_tier=subscription_tier,
            status=status,
            timezone=timezone,
            cancellation_window_hours=cancellation_window_hours,
            late_cancellation_fee_percent=late_cancellation_fee_percent,
        )
        _audit_tenant_created(tenant, actor=actor, request=request)
    return tenant


def tenant_rows_create(
    *,
    name: str,
    schema_name: str,
    domain: str,
    subscription_tier: str = Tenant.Tier.FREE,
    status: str = Tenant.Status.ACTIVE,
    timezone: str = "UTC",
    cancellation_window_hours: int = 24,
    late_cancellation_fee_percent: Decimal = Decimal("0"),
) -> Tenant:
    """The writes of ``tenant_provision`` without its audit, for the services that create a
    tenant as part of a larger audited write (``console.tenant_archive.tenant_import``). Call it
    inside the caller's transaction."""
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
    tenant.audit_creation = False  # recorded by the calling service, with its actor
    try:
        with transaction.atomic():
            tenant.save(verbosity=0)
            Domain.objects.create(domain=domain, tenant=tenant, is_primary=True)
    except IntegrityError as error:  # lost a race for the same schema name or domain
        raise Conflict("The schema name or domain was taken meanwhile; try another.") from error
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
    return _tenant_setting_change(
        tenant=tenant, field="cors_allowed_origins", value=normalized, detail="origins",
        event="tenant_cors_origins_changed", actor=actor, request=request,
    )  # fmt: skip


@transaction.atomic
def tenant_public_booking_set(
    *, tenant: Tenant, enabled: bool, actor: Any, request: Any = None
) -> Tenant:
    """Switch the public booking pages (guest booking without an account) on or off. Every
    worker's next request sees it."""
    return _tenant_setting_change(
        tenant=tenant, field="public_booking_enabled", value=enabled, detail="enabled",
        event="tenant_public_booking_changed", actor=actor, request=request,
    )  # fmt: skip


def _tenant_setting_change(
    *, tenant: Tenant, field: str, value: Any, detail: str, event: str, actor: Any, request: Any
) -> Tenant:
    """Set one setting on the locked tenant row and audit it with its previous value, in the
    caller's transaction."""
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    previous = getattr(tenant, field)
    setattr(tenant, field, value)
    tenant.save(update_fields=[field, "updated_at"])
    security_event(
        event, request=request, actor=actor, tenant_schema=tenant.schema_name,
        previous=list(previous) if isinstance(previous, list) else previous, **{detail: value},
    )  # fmt: skip
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


@transaction.atomic
def tenant_deletion_schedule(*, tenant: Tenant, actor: Any, request: Any = None) -> Tenant:
    """Schedule ``tenant``'s deletion after the grace period (``TENANT_DELETION_GRACE_DAYS``).
    Its hosts refuse every request at once (410 ``tenant_pending_deletion``); the deletion can be
    cancelled until it is due (``tenant_deletion_cancel``)."""
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    if tenant.deletion_due_at is not None:
        raise Conflict(
            f"'{tenant.name}' is already scheduled for deletion on "
            f"{tenant.deletion_due_at:%Y-%m-%d %H:%M} UTC.",
            code="already_pending_deletion",
        )
    tenant.deletion_due_at = clock.now() + timedelta(days=settings.TENANT_DELETION_GRACE_DAYS)
    tenant.save(update_fields=["deletion_due_at", "updated_at"])  # new routes (tenancy.signals)
    security_event(
        "tenant_deletion_scheduled",
        request=request,
        actor=actor,
        subject=tenant,
        tenant=tenant,
        tenant_schema=tenant.schema_name,
        deletion_due_at=tenant.deletion_due_at,
    )
    return tenant


@transaction.atomic
def tenant_deletion_cancel(*, tenant: Tenant, actor: Any, request: Any = None) -> Tenant:
    """Cancel a scheduled deletion that is not yet done: the tenant's hosts answer again."""
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    if tenant.deletion_due_at is None:
        raise Conflict(
            f"'{tenant.name}' is not scheduled for deletion.", code="not_pending_deletion"
        )
    previous = tenant.deletion_due_at
    tenant.deletion_due_at = None
    tenant.save(update_fields=["deletion_due_at", "updated_at"])
    security_event(
        "tenant_deletion_cancelled",
        request=request,
        actor=actor,
        subject=tenant,
        tenant=tenant,
        tenant_schema=tenant.schema_name,
        deletion_was_due_at=previous,
    )
    return tenant
