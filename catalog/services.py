"""Writes of the catalogue: a service, its resource requirements and its per-resource prices
and durations, together."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction

from catalog.models import Service, ServiceRequirement, ServiceResourceOverride
from core.audit import security_event
from core.exceptions import Conflict, DomainError
from users.models import User


def _replace_requirements(service: Service, requirements: Sequence[dict[str, Any]]) -> None:
    service.requirements.all().delete()
    for position, spec in enumerate(requirements):
        eligible = list(spec["eligible_resources"])
        wrong = [r.name for r in eligible if r.type != spec["resource_type"]]
        if wrong:
            raise DomainError(
                f"Requirement {position + 1} needs {spec['resource_type']} resources; "
                f"{', '.join(wrong)} are not.",
                fields={"requirements": [f"Item {position + 1}: wrong resource type."]},
            )
        requirement = ServiceRequirement.objects.create(
            service=service, position=position, resource_type=spec["resource_type"]
        )
        requirement.eligible_resources.set(eligible)


def _replace_overrides(service: Service, overrides: Sequence[dict[str, Any]]) -> None:
    """A resource's own price and duration for the service; each resource must be one the
    service can hold (an eligible resource of one of its requirements), named once."""
    service.resource_overrides.all().delete()
    eligible = set(
        ServiceRequirement.eligible_resources.through.objects.filter(
            servicerequirement__service=service
        ).values_list("resource_id", flat=True)
    )
    seen: set[int] = set()
    for position, spec in enumerate(overrides):
        resource = spec["resource"]
        if resource.pk not in eligible or resource.pk in seen:
            why = "named twice" if resource.pk in seen else "not eligible for this service"
            raise DomainError(
                f"'{resource.name}' is {why}.",
                fields={"resource_overrides": [f"Item {position + 1}: {why}."]},
            )
        seen.add(resource.pk)
        ServiceResourceOverride.objects.create(
            service=service,
            resource=resource,
            price=spec.get("price"),
            duration_minutes=spec.get("duration_minutes"),
        )


@transaction.atomic
def service_create(
    *,
    actor: User | None,
    requirements: Sequence[dict[str, Any]] = (),
    resource_overrides: Sequence[dict[str, Any]] = (),
    **fields: Any,
) -> Service:
    service = Service.objects.create(**fields)
    _replace_requirements(service, requirements)
    _replace_overrides(service, resource_overrides)
    security_event("service_created", actor=actor, subject=service, service_name=service.name)
    return service


@transaction.atomic
def service_update(
    *,
    service: Service,
    actor: User | None,
    requirements: Sequence[dict[str, Any]] | None = None,
    resource_overrides: Sequence[dict[str, Any]] | None = None,
    **changes: Any,
) -> Service:
    """Change a service; ``requirements`` and ``resource_overrides`` are replaced wholesale when
    given. Overrides of resources the new requirements no longer hold are dropped."""
    for field, value in changes.items():
        setattr(service, field, value)
    service.save()
    if requirements is not None:
        _replace_requirements(service, requirements)
        if resource_overrides is None:
            service.resource_overrides.exclude(resource__requirements__service=service).delete()
    if resource_overrides is not None:
        _replace_overrides(service, resource_overrides)
    nested = {"requirements": requirements, "resource_overrides": resource_overrides}
    fields = sorted([*changes, *(name for name, value in nested.items() if value is not None)])
    security_event("service_updated", actor=actor, subject=service, fields=fields)
    return service


@transaction.atomic
def service_delete(*, service: Service, actor: User | None) -> None:
    if service.appointments.exists():
        raise Conflict(
            f"'{service.name}' has appointments; set it inactive instead.", code="service_in_use"
        )
    security_event("service_deleted", actor=actor, subject=service, service_name=service.name)
    service.delete()
