"""Signed links in customers' e-mails (unsubscribe, review). A token is signed with the
project's secret and salted with the tenant's schema: it works on its own tenant's host only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse

from core.exceptions import NotFound
from customers.models import Customer
from tenancy.models import Domain, Tenant


def tenant_base_url(tenant: Tenant) -> str:
    domain = Domain.objects.filter(tenant=tenant, is_primary=True).values_list("domain", flat=True)
    host = domain.first() or f"{tenant.schema_name}.invalid"
    return settings.TENANT_LINK_BASE.format(host=host).rstrip("/")


def _salt(purpose: str, tenant: Tenant) -> str:
    return f"smoothschedule.{purpose}:{tenant.schema_name}"


def link_token(*, purpose: str, tenant: Tenant, value: str) -> str:
    return signing.dumps({"v": value}, salt=_salt(purpose, tenant), compress=True)


def link_value(
    *, purpose: str, tenant: Tenant, token: str, max_age: timedelta | None = None
) -> str:
    """The value a token was made for; 404 for a forged, foreign or expired one."""
    try:
        data: Any = signing.loads(token, salt=_salt(purpose, tenant), max_age=max_age)
    except signing.BadSignature:
        raise NotFound("This link is not valid (or no longer).", code="invalid_link") from None
    return str(data["v"])


def unsubscribe_url(*, tenant: Tenant, customer: Customer) -> str:
    token = link_token(purpose="unsubscribe", tenant=tenant, value=str(customer.public_id))
    path = reverse("unsubscribe", urlconf="config.urls_tenant", kwargs={"token": token})
    return tenant_base_url(tenant) + path


def review_url(*, tenant: Tenant, appointment: Any) -> str:
    token = link_token(purpose="review", tenant=tenant, value=str(appointment.public_id))
    path = reverse("review-submit", urlconf="config.urls_tenant", kwargs={"token": token})
    return tenant_base_url(tenant) + path


def review_max_age() -> timedelta:
    return timedelta(days=settings.REVIEW_LINK_MAX_AGE_DAYS)
