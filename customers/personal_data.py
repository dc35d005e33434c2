"""What the apps above customers keep about a customer, for the GDPR right of access and the
erasure. Each such app registers, from its ``AppConfig.ready()``, the sections it adds to the
export and an eraser; customers runs them without naming the apps. Registration order (that of
``INSTALLED_APPS``) is the order of the export's sections."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from django.db.models import QuerySet

from customers.models import Customer
from tenancy.models import Tenant

Exporter = Callable[[Customer], Any]


class Eraser(Protocol):
    """Erases what one app keeps about ``customer`` (inside the erasure's transaction, the
    customer row locked) and returns the figures the erasure's audit event records."""

    def __call__(
        self, *, tenant: Tenant, customer: Customer, emails: set[str]
    ) -> dict[str, Any]: ...


Annotator = Callable[[QuerySet[Customer]], QuerySet[Customer]]

_exporters: dict[str, Exporter] = {}
_erasers: list[Eraser] = []
_annotators: list[Annotator] = []


def register_exporter(section: str, exporter: Exporter) -> None:
    """Export ``exporter(customer)`` as ``section`` of the customer's personal data."""
    _exporters[section] = exporter


def register_eraser(eraser: Eraser) -> None:
    """Run ``eraser`` when a customer is erased (registering twice is a no-op)."""
    if eraser not in _erasers:
        _erasers.append(eraser)


def register_annotator(annotator: Annotator) -> None:
    """Annotate the customer list with ``annotator``'s figures (registering twice is a no-op)."""
    if annotator not in _annotators:
        _annotators.append(annotator)


def exported_sections(customer: Customer) -> dict[str, Any]:
    return {section: exporter(customer) for section, exporter in _exporters.items()}


def erase_elsewhere(*, tenant: Tenant, customer: Customer, emails: set[str]) -> dict[str, Any]:
    """Every registered eraser run in turn; their audit figures merged."""
    figures: dict[str, Any] = {}
    for eraser in _erasers:
        figures.update(eraser(tenant=tenant, customer=customer, emails=emails))
    return figures


def annotated(customers: QuerySet[Customer]) -> QuerySet[Customer]:
    for annotator in _annotators:
        customers = annotator(customers)
    return customers
