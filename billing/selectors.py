"""Reads of billing: charges within what a user may see, and the revenue summary."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from billing.models import Charge, ChargeKind, PaymentStatus


def charge_list() -> QuerySet[Charge]:
    return Charge.objects.select_related("appointment", "customer")


def revenue_summary(
    *, start: datetime | None = None, end: datetime | None = None
) -> dict[str, Any]:
    """Totals by payment status and by kind of the charges created in ``[start, end)``."""
    charges = Charge.objects.all()
    if start is not None:
        charges = charges.filter(created_at__gte=start)
    if end is not None:
        charges = charges.filter(created_at__lt=end)
    zero = Decimal("0.00")
    totals = charges.aggregate(
        count=Count("id"),
        paid=Sum("amount", filter=Q(status=PaymentStatus.PAID), default=zero),
        outstanding=Sum("amount", filter=Q(status=PaymentStatus.PENDING), default=zero),
        refunded=Sum("amount", filter=Q(status=PaymentStatus.REFUNDED), default=zero),
        void=Sum("amount", filter=Q(status=PaymentStatus.VOID), default=zero),
        appointments=Sum(
            "amount",
            filter=Q(kind=ChargeKind.APPOINTMENT) & ~Q(status=PaymentStatus.VOID),
            default=zero,
        ),
        late_cancellation_fees=Sum(
            "amount",
            filter=Q(kind=ChargeKind.LATE_CANCELLATION) & ~Q(status=PaymentStatus.VOID),
            default=zero,
        ),
    )
    return {"start": start, "end": end, **totals}
