"""Reads of customers, with their derived total spend and last visit."""

from __future__ import annotations

from decimal import Decimal

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
