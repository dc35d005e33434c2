"""A customer's appointments in its personal data (``customers.personal_data``): exported,
notes erased, the appointments themselves kept; and the customer list's visit figures."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Max, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from appointments.models import Appointment, AppointmentStatus
from customers.models import Customer
from tenancy.models import Tenant


def customer_visit_figures(customers: QuerySet[Customer]) -> QuerySet[Customer]:
    """``last_visit`` (the start of the latest completed appointment) and ``no_show_count``
    (appointments marked NO_SHOW), as correlated subqueries."""
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
    return customers.annotate(
        last_visit=Subquery(visits), no_show_count=Coalesce(Subquery(no_shows), 0)
    )


def export_appointments(customer: Customer) -> list[dict[str, Any]]:
    appointments = Appointment.objects.filter(customer=customer).order_by("starts_at", "id")
    return [
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
    ]


def erase_appointments(*, tenant: Tenant, customer: Customer, emails: set[str]) -> dict[str, Any]:
    """Notes go; the appointments stay (the business's records)."""
    appointments = Appointment.objects.filter(customer=customer)
    appointments.exclude(notes="").update(notes="")
    return {"appointments_kept": appointments.count()}
