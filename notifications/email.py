"""E-mail: composing a message from a template (when an event is handled) and sending stored
messages through Django's backend (when a delivery is sent)."""

from __future__ import annotations

import logging
import time
from email.mime.image import MIMEImage
from email.utils import formataddr, parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django_tenants.utils import tenant_context

from notifications.delivery import (
    Fence,
    Outcome,
    SendChecks,
    delivery_record,
    monotonic_ms,
)
from notifications.handlers import Outgoing
from notifications.models import Channel, Delivery
from notifications.templates import render
from tenancy.models import Tenant

logger = logging.getLogger(__name__)


def business_context(tenant: Tenant) -> dict[str, Any]:
    return {"name": tenant.name, "logo": bool(tenant.logo)}


def email_outgoing(
    *,
    tenant: Tenant,
    kind: str,
    to: str,
    context: dict[str, Any],
    unsubscribe_url: str = "",
    attachments: list[dict[str, str]] | None = None,
) -> Outgoing:
    """An e-mail of template ``kind`` to ``to``, rendered now. Customers' e-mails carry
    ``List-Unsubscribe`` with one-click unsubscribe (RFC 8058)."""
    rendered = render(kind, {"business": business_context(tenant), **context})
    headers = {}
    if unsubscribe_url:
        headers["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return Outgoing(
        channel=Channel.EMAIL,
        recipient=to,
        message={
            "kind": kind,
            "subject": rendered.subject,
            "text": rendered.text,
            "html": rendered.html,
            "headers": headers,
            "attachments": attachments or [],
            "logo": bool(tenant.logo),
        },
    )


def _logo(tenant: Tenant) -> MIMEImage | None:
    if not tenant.logo:
        return None
    try:
        with tenant_context(tenant), tenant.logo.open("rb") as file:
            image = MIMEImage(file.read())
    except Exception:  # a missing file must not stop the e-mail
        logger.warning("logo of %s could not be read", tenant.schema_name)
        return None
    image.add_header("Content-ID", "<logo>")
    image.add_header("Content-Disposition", "inline", filename="logo")
    return image


def email_build(
    delivery: Delivery, logos: dict[int, MIMEImage | None] | None = None
) -> EmailMultiAlternatives:
    message = delivery.message
    headers = {
        **message.get("headers", {}),
        # The same id on every attempt: a receiver can drop a copy sent twice.
        "Message-ID": f"<{delivery.public_id}@smoothschedule>",
    }
    email = EmailMultiAlternatives(
        subject=message["subject"],
        body=message["text"],
        from_email=formataddr((delivery.tenant.name, _address(settings.DEFAULT_FROM_EMAIL))),
        to=[delivery.recipient],
        headers=headers,
    )
    email.attach_alternative(message["html"], "text/html")
    for attachment in message.get("attachments", []):
        email.attach(attachment["filename"], attachment["content"], attachment["mimetype"])
    if message.get("logo") and logos is not None:
        if delivery.tenant_id not in logos:
            logos[delivery.tenant_id] = _logo(delivery.tenant)
        if logos[delivery.tenant_id] is not None:
            email.attach(logos[delivery.tenant_id])
    return email


def _address(from_email: str) -> str:
    return parseaddr(from_email)[1]


def emails_send(deliveries: list[Delivery]) -> None:
    """Send a batch over one connection; each outcome is recorded as soon as it is known."""
    connection = get_connection()
    try:
        connection.open()
    except Exception as error:  # the server is down: every one of them waits for a retry
        for delivery in deliveries:
            delivery_record(delivery, Outcome(ok=False, error=f"{type(error).__name__}: {error}"))
        return
    logos: dict[int, MIMEImage | None] = {}
    checks, fence = SendChecks(deliveries), Fence(deliveries)
    try:
        for position, delivery in enumerate(deliveries):
            if not fence.holds(delivery):
                continue  # another sender holds it now (our lease ran out), or it was cancelled
            refusal = checks.refusal(delivery)
            if refusal is not None:
                delivery_record(delivery, refusal)
                continue
            start = time.monotonic()
            try:
                connection.send_messages([email_build(delivery, logos)])
            except Exception as error:
                delivery_record(
                    delivery,
                    Outcome(ok=False, error=f"{type(error).__name__}: {error}",
                            latency_ms=monotonic_ms(start)),
                )  # fmt: skip
                # The connection may be broken: start a fresh one for the next message.
                connection.close()
                try:
                    connection.open()
                except Exception as reopen:
                    for rest in deliveries[position + 1 :]:
                        delivery_record(
                            rest, Outcome(ok=False, error=f"{type(reopen).__name__}: {reopen}")
                        )
                    return
                continue
            delivery_record(delivery, Outcome(ok=True, latency_ms=monotonic_ms(start)))
    finally:
        connection.close()
