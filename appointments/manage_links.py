"""Signed manage links: a guest views, cancels or reschedules its appointment without an account.

A token is ``django.core.signing`` over (appointment, purpose, version, end) with a salt per
purpose and tenant schema, so it is bound to one appointment and one purpose, refused on another
business's host, and dead after the appointment's end. ``Appointment.manage_version`` is in the
payload: cancelling or rescheduling through a link bumps it, so every link issued before (the
used cancel link included) stops working. The tokens travel in request bodies, never in a URL
path or query, so they reach no access log and no audit row (which records the path).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core import signing

from appointments.models import Appointment
from appointments.selectors import appointment_list
from core.exceptions import NotFound
from notifications.links import tenant_base_url
from tenancy.models import Tenant

PURPOSES = ("view", "cancel", "reschedule")


@dataclass(frozen=True)
class ManageClaim:
    """What a valid token says: which appointment, at which version of its links."""

    appointment_id: str
    version: int


def _salt(purpose: str, tenant: Tenant) -> str:
    return f"smoothschedule.manage.{purpose}:{tenant.schema_name}"


def manage_token(*, tenant: Tenant, appointment: Appointment, purpose: str) -> str:
    payload = {
        "a": str(appointment.public_id),
        "p": purpose,
        "v": appointment.manage_version,
        "e": int(appointment.ends_at.timestamp()),
    }
    return signing.dumps(payload, salt=_salt(purpose, tenant), compress=True)


def manage_tokens(*, tenant: Tenant, appointment: Appointment) -> dict[str, str]:
    """One token per purpose for ``appointment`` as it is now."""
    return {
        purpose: manage_token(tenant=tenant, appointment=appointment, purpose=purpose)
        for purpose in PURPOSES
    }


def manage_urls(*, tenant: Tenant, tokens: dict[str, str]) -> dict[str, str]:
    """The links for a booking page (``PUBLIC_MANAGE_LINK``): the token in the fragment, which
    browsers never send, so the page posts it to the API in a body."""
    base = tenant_base_url(tenant)
    return {
        purpose: settings.PUBLIC_MANAGE_LINK.format(base=base, purpose=purpose, token=token)
        for purpose, token in tokens.items()
    }


def _invalid() -> NotFound:
    return NotFound("This link is not valid (or no longer).", code="invalid_link")


def manage_claim(*, tenant: Tenant, token: Any, purpose: str, now: datetime) -> ManageClaim:
    """The claim of a token made for ``purpose`` on ``tenant``; 404 ``invalid_link`` for a forged,
    foreign, other-purpose or expired one (the version is checked by the caller, under a lock)."""
    if not isinstance(token, str) or len(token) > 1000:
        raise _invalid()
    try:
        data: Any = signing.loads(token, salt=_salt(purpose, tenant))
    except signing.BadSignature:
        raise _invalid() from None
    if not isinstance(data, dict) or data.get("p") != purpose:
        raise _invalid()
    if not isinstance(data.get("e"), int) or now.timestamp() >= data["e"]:
        raise _invalid()
    return ManageClaim(appointment_id=str(data["a"]), version=int(data["v"]))


def manage_check_version(claim: ManageClaim, appointment: Appointment) -> None:
    if appointment.manage_version != claim.version:
        raise _invalid()


def manage_link_appointment(*, tenant: Tenant, token: Any, now: datetime) -> Appointment:
    """The appointment a view link shows, while the link is its current one."""
    claim = manage_claim(tenant=tenant, token=token, purpose="view", now=now)
    appointment = appointment_list().filter(public_id=claim.appointment_id).first()
    if appointment is None:
        raise _invalid()
    manage_check_version(claim, appointment)
    return appointment
