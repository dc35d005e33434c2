"""Reads of the plugins' tenant records."""

from __future__ import annotations

from django.db.models import (
    Avg,
    Count,
    DecimalField,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Round

from appointments.models import Appointment, AppointmentStatus
from core.exceptions import NotFound
from customers.models import Customer
from notifications.links import link_value, review_max_age
from plugin_data.models import CustomerPreference, Review
from plugins.selectors import plugin_active
from tenancy.models import Tenant


def with_review_figures(services: QuerySet) -> QuerySet:
    """Services annotated with ``rating_average`` (2 decimals, null without reviews) and
    ``rating_count``, as correlated subqueries."""
    reviews = Review.objects.filter(service=OuterRef("pk")).values("service")
    average = reviews.annotate(
        value=Round(Cast(Avg("rating"), DecimalField(max_digits=6, decimal_places=4)), 2)
    ).values("value")
    count = reviews.annotate(value=Count("id")).values("value")
    return services.annotate(
        rating_average=Subquery(average, output_field=DecimalField(max_digits=3, decimal_places=2)),
        rating_count=Coalesce(Subquery(count, output_field=IntegerField()), Value(0)),
    )


def unsubscribe_customer(*, tenant: Tenant, token: str) -> Customer:
    """The customer a signed unsubscribe link names (404 ``invalid_link`` for anything else)."""
    public_id = link_value(purpose="unsubscribe", tenant=tenant, token=token)
    customer = Customer.objects.filter(public_id=public_id).first()
    if customer is None:
        raise NotFound("This link is not valid (or no longer).", code="invalid_link")
    return customer


def customer_unsubscribed(customer: Customer) -> bool:
    return CustomerPreference.objects.filter(
        customer=customer, unsubscribed_at__isnull=False
    ).exists()


def review_appointment(*, tenant: Tenant, token: str) -> Appointment:
    """The completed appointment a review link is for; 404 for a bad or expired link."""
    public_id = link_value(purpose="review", tenant=tenant, token=token, max_age=review_max_age())
    if not plugin_active(tenant=tenant, slug="review-requests"):
        raise NotFound("Reviews are switched off here.", code="invalid_link")
    appointment = (
        Appointment.objects.select_related("service", "customer")
        .filter(public_id=public_id, status=AppointmentStatus.COMPLETED)
        .first()
    )
    if appointment is None:
        raise NotFound("This link is not valid (or no longer).", code="invalid_link")
    return appointment
