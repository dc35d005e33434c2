"""Reads of customers, with their derived total spend and last visit."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Count, Max, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from customers.models import Customer


def customer_list() -> QuerySet[Customer]:
    """Customers annotated with ``total_spend`` (paid charges), ``last_visit`` (the start of
    the latest completed appointment) and ``no_show_count`` (appointments marked NO_SHOW), as
    correlated subqueries so filters stay cheap."""
    from appointments.models import Appointment, AppointmentStatus
    from billing.models import Charge, PaymentStatus

    paid = (
        Charge.objects.filter(customer=OuterRef("pk"), status=PaymentStatus.PAID)
        .values("customer")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    visits = (
        Appointment.objects.filter(customer=OuterRef("pk"), status=AppointmentStatus.COMPLETED)
        .values("customer")
        .annotate(last=Max("starts_at"))
        .values("last")
    )
    no_shows = (
        Appointment.objects.filter(customer=OuterRef("pk"), status=AppointmentStatus.NO_SHOW)
        .values("customer")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Customer.objects.annotate(
        total_spend=Coalesce(Subquery(paid), Decimal("0.00")),
        last_visit=Subquery(visits),
        no_show_count=Coalesce(Subquery(no_shows), 0),
    )


def customer_personal_data(*, customer: Customer) -> dict[str, Any]:
    """Everything the business keeps about ``customer`` as a person (GDPR right of access): the
    customer record with the business's notes, its account, its appointments, charges, reviews and
    e-mail preferences."""
    from appointments.models import Appointment
    from billing.models import Charge
    from plugin_data.models import CustomerPreference, Review
    from users.models import User

    account = (
        User.objects.filter(pk=customer.user_id)
        .values("email", "first_name", "last_name", "is_active", "date_joined")
        .first()
        if customer.user_id
        else None
    )
    appointments = Appointment.objects.filter(customer=customer).order_by("starts_at", "id")
    preference = CustomerPreference.objects.filter(customer=customer).first()
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
        "appointments": [
            {
                "id": str(a.public_id),
                "service": a.service.name,
                "starts_at": a.starts_at,
                "ends_at": a.ends_at,
                "status": a.status,
                "price": str(a.price),
                "notes": a.notes,
                "cancelled_at": a.cancelled_at,
                "created_at": a.created_at,
            }
            for a in appointments.select_related("service")
        ],
        "charges": [
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
        ],
        "reviews": [
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
        ],
        "preferences": None
        if preference is None
        else {"timezone": preference.timezone, "unsubscribed_at": preference.unsubscribed_at},
    }
