"""Writes of the plugins' tenant records: webhook endpoints, e-mail templates, customers'
e-mail preferences and reviews. Each is one transaction with its audit line."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from rest_framework.request import Request

from core.audit import security_event
from core.exceptions import Conflict, DomainError
from core.validators import validate_timezone
from customers.models import Customer
from notifications.events import PUBLIC_EVENTS
from notifications.templates import TemplateSource, template_validate
from notifications.webhooks import UnsafeTarget, resolve_target, secret_generate, url_redacted
from plugin_data.models import CustomerPreference, EmailTemplate, Review, WebhookEndpoint
from plugins.data.selectors import review_appointment, unsubscribe_customer
from plugins.models import PluginInstallation
from plugins.selectors import plugin_active
from tenancy.models import Tenant
from users.models import User


def _require_plugin(tenant: Tenant, slug: str) -> None:
    if not plugin_active(tenant=tenant, slug=slug):
        raise Conflict(
            f"Install and enable the '{slug}' plugin first.", code="plugin_not_installed"
        )


def _lock_installation(tenant: Tenant, slug: str) -> None:
    PluginInstallation.objects.select_for_update(of=("self",)).filter(
        tenant=tenant, plugin__slug=slug
    ).first()


def _check_target(url: str) -> None:
    try:
        resolve_target(url)
    except UnsafeTarget as error:
        raise DomainError(
            str(error), code="unsafe_webhook_target", fields={"url": [str(error)]}
        ) from None


def _check_event_types(event_types: list[str]) -> None:
    unknown = sorted(set(event_types) - set(PUBLIC_EVENTS))
    if unknown:
        raise DomainError(
            f"Unknown event types: {', '.join(unknown)}.",
            fields={"event_types": [f"Choose from: {', '.join(PUBLIC_EVENTS)}."]},
        )


def webhook_endpoint_create(
    *,
    tenant: Tenant,
    actor: User,
    url: str,
    description: str = "",
    event_types: list[str] | None = None,
    request: HttpRequest | Request | None = None,
) -> WebhookEndpoint:
    """A new endpoint with a fresh secret (the caller shows it once); at most
    ``WEBHOOK_ENDPOINTS_PER_TENANT`` of them. The webhooks installation's row is locked first, so
    endpoints are created one at a time (the limit holds) and never after an uninstall removed
    the plugin's data (it locks the same row)."""
    _require_plugin(tenant, "webhooks")
    _check_target(url)
    _check_event_types(event_types or [])
    with transaction.atomic():
        _lock_installation(tenant, "webhooks")
        _require_plugin(tenant, "webhooks")
        limit = settings.WEBHOOK_ENDPOINTS_PER_TENANT
        if WebhookEndpoint.objects.count() >= limit:
            raise Conflict(
                f"A business can have at most {limit} webhook endpoints.",
                code="webhook_endpoint_limit",
            )
        endpoint = WebhookEndpoint.objects.create(
            url=url, description=description, event_types=event_types or [],
            secret=secret_generate(),
        )  # fmt: skip
        security_event(
            "webhook_endpoint_created", request=request, actor=actor, subject=endpoint,
            tenant=tenant, url=url_redacted(url), event_types=endpoint.event_types,
        )  # fmt: skip
    return endpoint


def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    actor: User,
    request: HttpRequest | Request | None = None,
    **changes: Any,
) -> WebhookEndpoint:
    """Change an endpoint; enabling it again forgets its failures."""
    if "url" in changes:
        _check_target(changes["url"])
    if "event_types" in changes:
        _check_event_types(changes["event_types"])
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        for field, value in changes.items():
            setattr(endpoint, field, value)
        if changes.get("enabled"):
            endpoint.consecutive_failures = 0
            endpoint.disabled_at = None
            endpoint.disabled_reason = ""
        endpoint.save()
        security_event(
            "webhook_endpoint_updated", request=request, actor=actor, subject=endpoint,
            fields=sorted(changes),
        )  # fmt: skip
    return endpoint


def webhook_endpoint_rotate_secret(
    *, endpoint: WebhookEndpoint, actor: User, request: HttpRequest | Request | None = None
) -> WebhookEndpoint:
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        endpoint.secret = secret_generate()
        endpoint.save(update_fields=["secret", "updated_at"])
        security_event("webhook_secret_rotated", request=request, actor=actor, subject=endpoint)
    return endpoint


def webhook_endpoint_delete(
    *, endpoint: WebhookEndpoint, actor: User, request: HttpRequest | Request | None = None
) -> None:
    with transaction.atomic():
        security_event(
            "webhook_endpoint_deleted", request=request, actor=actor, subject=endpoint,
            url=url_redacted(endpoint.url),
        )  # fmt: skip
        endpoint.delete()


def email_template_save(
    *, kind: str, source: TemplateSource, actor: User, request: HttpRequest | Request | None = None
) -> EmailTemplate:
    """The tenant's own version of an e-mail; refused (400 naming the field) unless it renders
    with the documented variables."""
    template_validate(kind, source)
    with transaction.atomic():
        template, _ = EmailTemplate.objects.update_or_create(
            kind=kind,
            defaults={"subject": source.subject, "text_body": source.text_body,
                      "html_body": source.html_body},
        )  # fmt: skip
        security_event(
            "email_template_saved", request=request, actor=actor, subject=template, kind=kind
        )
    return template


def email_template_reset(
    *, kind: str, actor: User, request: HttpRequest | Request | None = None
) -> None:
    """Back to the shipped default: the tenant's own version goes (nothing to do without one)."""
    with transaction.atomic():
        template = EmailTemplate.objects.select_for_update().filter(kind=kind).first()
        if template is None:
            return
        security_event(
            "email_template_reset", request=request, actor=actor, subject=template, kind=kind
        )
        template.delete()


def customer_preference_set(
    *,
    customer: Customer,
    actor: User,
    timezone_name: str,
    request: HttpRequest | Request | None = None,
) -> CustomerPreference:
    if timezone_name:
        try:
            validate_timezone(timezone_name)
        except Exception as error:
            raise DomainError(
                "Not an IANA timezone.", fields={"timezone": ["Not an IANA timezone."]}
            ) from error
    with transaction.atomic():
        preference, _ = CustomerPreference.objects.update_or_create(
            customer=customer, defaults={"timezone": timezone_name}
        )
        security_event(
            "customer_preference_set", request=request, actor=actor, target=customer.user,
            subject=customer, timezone=timezone_name,
        )  # fmt: skip
    return preference


def customer_unsubscribe(
    *, tenant: Tenant, token: str, request: HttpRequest | Request | None = None
) -> Customer:
    """Stop e-mails to the customer a signed unsubscribe link names (idempotent)."""
    customer = unsubscribe_customer(tenant=tenant, token=token)
    with transaction.atomic():
        # Locked: of two clicks on the link at once, one records the change, the other sees it.
        preference, _ = CustomerPreference.objects.select_for_update().get_or_create(
            customer=customer
        )
        if preference.unsubscribed_at is None:
            preference.unsubscribed_at = timezone.now()
            preference.save(update_fields=["unsubscribed_at", "updated_at"])
            security_event(
                "customer_unsubscribed", request=request, target=customer.user, subject=customer
            )
    return customer


def review_submit(
    *,
    tenant: Tenant,
    token: str,
    rating: int,
    comment: str = "",
    request: HttpRequest | Request | None = None,
) -> Review:
    """The customer's review through a signed link; the link works once (409 after)."""
    appointment = review_appointment(tenant=tenant, token=token)
    if not 1 <= rating <= 5:
        raise DomainError("A rating is 1 to 5.", fields={"rating": ["From 1 to 5."]})
    with transaction.atomic():
        try:
            with transaction.atomic():
                review = Review.objects.create(
                    appointment=appointment, service=appointment.service,
                    customer=appointment.customer, rating=rating, comment=comment,
                )  # fmt: skip
        except IntegrityError as error:  # one review per appointment: the link works once
            raise Conflict(
                "This visit has already been reviewed; the link works once.",
                code="review_already_submitted",
            ) from error
        security_event(
            "review_submitted", request=request, target=appointment.customer.user,
            subject=review, appointment=str(appointment.public_id), rating=rating,
        )  # fmt: skip
    return review


def review_reply(
    *, review: Review, actor: User, reply: str, request: HttpRequest | Request | None = None
) -> Review:
    with transaction.atomic():
        review = Review.objects.select_for_update().get(pk=review.pk)
        review.reply = reply
        review.replied_at = timezone.now() if reply else None
        review.save(update_fields=["reply", "replied_at"])
        security_event("review_replied", request=request, actor=actor, subject=review)
    return review
