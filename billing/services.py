"""Writes of billing records. Card processing is out of scope; the records are not."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from rest_framework.request import Request

from billing.models import Charge, PaymentStatus
from core.audit import security_event
from core.exceptions import DomainError
from users.models import User

# Payment status moves forward only; VOID and REFUNDED are final.
PAYMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    PaymentStatus.PENDING: frozenset({PaymentStatus.PAID, PaymentStatus.VOID}),
    PaymentStatus.PAID: frozenset({PaymentStatus.REFUNDED}),
}


@transaction.atomic
def charge_create(*, appointment: Any, kind: str, amount: Decimal, actor: User | None) -> Charge:
    """Bill an appointment (its price on completion, or a late-cancellation fee)."""
    charge = Charge.objects.create(
        appointment=appointment, customer=appointment.customer, kind=kind, amount=amount
    )
    security_event(
        "charge_created",
        actor=actor,
        subject=charge,
        appointment=str(appointment.public_id),
        kind=kind,
        amount=str(amount),
    )
    return charge


@transaction.atomic
def charge_set_status(
    *,
    charge: Charge,
    status: str,
    actor: User | None,
    request: HttpRequest | Request | None = None,
    now: datetime | None = None,
) -> Charge:
    charge = Charge.objects.select_for_update().get(pk=charge.pk)
    if status not in PAYMENT_TRANSITIONS.get(charge.status, frozenset()):
        raise DomainError(
            f"A charge cannot go from {charge.status} to {status}.",
            code="invalid_transition",
            fields={"status": [f"{charge.status} -> {status} is not allowed."]},
        )
    previous = charge.status
    charge.status = status
    if status == PaymentStatus.PAID:
        charge.paid_at = now or timezone.now()
    charge.save(update_fields=["status", "paid_at", "updated_at"])
    security_event(
        "charge_status_changed",
        request=request,
        actor=actor,
        subject=charge,
        previous_status=previous,
        status=status,
    )
    return charge
