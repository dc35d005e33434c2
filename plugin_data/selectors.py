"""Reads of the plugins' tenant records that need nothing above them (the others, which
check signed links and installed plugins, are ``plugins.data.selectors``)."""

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

from customers.models import Customer
from plugin_data.models import CustomerPreference, Review


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


def customer_unsubscribed(customer: Customer) -> bool:
    return CustomerPreference.objects.filter(
        customer=customer, unsubscribed_at__isnull=False
    ).exists()
