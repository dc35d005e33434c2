"""A customer's charges in its personal data (``customers.personal_data``): exported and kept
at erasure (financial records); and the customer list's spend."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from billing.models import Charge, PaymentStatus
from customers.models import Customer
from tenancy.models import Tenant


def customer_spend(customers: QuerySet[Customer]) -> QuerySet[Customer]:
    """``total_spend``: the customer's paid charges, as a correlated subquery."""
    paid = (
        Charge.objects.filter(customer=OuterRef("pk"), status=PaymentStatus.PAID)
        .values("customer")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return customers.annotate(total_spend=Coalesce(Subquery(paid), Decimal("0.00")))


def export_charges(customer: Customer) -> list[dict[str, Any]]:
    return [
        {
            "id": str(c.public_id),
            "appointment": str(c.appointment.public_id),
            "kind": c.kind,
            "amount": str(c.amount),
            "status": c.status,
            "paid_at": c.paid_at,
            "created_at": c.created_at,
        }
        for c in Charge.objects.filter(customer=customer)
        .select_related("appointment")
        .order_by("created_at", "id")
    ]


def erase_charges(*, tenant: Tenant, customer: Customer, emails: set[str]) -> dict[str, Any]:
    """Charges and their amounts stay: the business must keep its financial records."""
    return {"charges_kept": Charge.objects.filter(customer=customer).count()}
