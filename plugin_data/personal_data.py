"""A customer's reviews and e-mail preferences in its personal data
(``customers.personal_data``): exported; at erasure the reviews lose their comments and the
preferences go."""

from __future__ import annotations

from typing import Any

from customers.models import Customer
from plugin_data.models import CustomerPreference, Review
from tenancy.models import Tenant


def export_reviews(customer: Customer) -> list[dict[str, Any]]:
    return [
        {
            "appointment": str(r.appointment.public_id),
            "rating": r.rating,
            "comment": r.comment,
            "reply": r.reply,
            "created_at": r.created_at,
        }
        for r in Review.objects.filter(customer=customer)
        .select_related("appointment")
        .order_by("created_at", "id")
    ]


def export_preferences(customer: Customer) -> dict[str, Any] | None:
    preference = CustomerPreference.objects.filter(customer=customer).first()
    if preference is None:
        return None
    return {"timezone": preference.timezone, "unsubscribed_at": preference.unsubscribed_at}


def erase_reviews_and_preferences(
    *, tenant: Tenant, customer: Customer, emails: set[str]
) -> dict[str, Any]:
    Review.objects.filter(customer=customer).exclude(comment="").update(comment="")
    CustomerPreference.objects.filter(customer=customer).delete()
    return {}
