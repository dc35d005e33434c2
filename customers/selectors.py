"""Reads of customers, with their derived total spend and last visit."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from customers.models import Customer
from customers.personal_data import annotated, exported_sections
from users.models import User


def customer_list() -> QuerySet[Customer]:
    """Customers annotated with ``total_spend`` (paid charges), ``last_visit`` (the start of
    the latest completed appointment) and ``no_show_count`` (appointments marked NO_SHOW), as
    correlated subqueries so filters stay cheap. The apps that keep those figures (billing,
    appointments) register them (``customers.personal_data.register_annotator``)."""
    return annotated(Customer.objects.all())


def customer_personal_data(*, customer: Customer) -> dict[str, Any]:
    """Everything the business keeps about ``customer`` as a person (GDPR right of access): the
    customer record with the business's notes, its account, then what the other apps keep (its
    appointments, charges, reviews and e-mail preferences, registered in
    ``customers.personal_data``)."""
    account = (
        User.objects.filter(pk=customer.user_id)
        .values("email", "first_name", "last_name", "is_active", "date_joined")
        .first()
        if customer.user_id
        else None
    )
    return {
        "customer": {
            "id": str(customer.public_id),
            "name": customer.name,
            "email": customer.email,
            "phone": customer.phone,
            "address": customer.address,
            "status": customer.status,
            "tags": customer.tags,
            "notes": customer.notes,
            "created_at": customer.created_at,
            "updated_at": customer.updated_at,
            "erased_at": customer.erased_at,
        },
        "account": account,
        **exported_sections(customer),
    }
