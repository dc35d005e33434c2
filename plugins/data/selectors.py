"""Reads of the plugins' tenant records behind signed links: the customer an unsubscribe link
names, the appointment a review link is for."""

from __future__ import annotations

from appointments.models import Appointment, AppointmentStatus
from core.exceptions import NotFound
from customers.models import Customer
from notifications.links import link_value, review_max_age
from plugins.selectors import plugin_active
from tenancy.models import Tenant


def unsubscribe_customer(*, tenant: Tenant, token: str) -> Customer:
    """The customer a signed unsubscribe link names (404 ``invalid_link`` for anything else)."""
    public_id = link_value(purpose="unsubscribe", tenant=tenant, token=token)
    customer = Customer.objects.filter(public_id=public_id).first()
    if customer is None:
        raise NotFound("This link is not valid (or no longer).", code="invalid_link")
    return customer


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
