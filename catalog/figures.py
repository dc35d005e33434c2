"""Figures the service list carries that apps above catalog compute (the reviews' rating
average and count come from plugin_data). Such an app registers an annotator from its
``AppConfig.ready()``; catalog applies them without knowing the apps."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import QuerySet

from catalog.models import Service

ServiceAnnotator = Callable[[QuerySet[Service]], QuerySet[Service]]

_annotators: list[ServiceAnnotator] = []


def register_service_annotator(annotator: ServiceAnnotator) -> None:
    """Annotate every service list with ``annotator`` (registering twice is a no-op)."""
    if annotator not in _annotators:
        _annotators.append(annotator)


def with_service_figures(services: QuerySet[Service]) -> QuerySet[Service]:
    """``services`` with every registered app's figures annotated."""
    for annotator in _annotators:
        services = annotator(services)
    return services
