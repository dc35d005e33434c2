"""Writes of the catalogue: a service and its resource requirements, together."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction

from catalog.models import Service, ServiceRequirement
from core.audit import security_event
from core.exceptions import Conflict, DomainError


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


@transaction.atomic
def service_create(
    *, actor: Any, requirements: Sequence[dict[str, Any]] = (), **fields: Any
) -> Service:
    service = Service.objects.create(**fields)
    _replace_requirements(service, requirements)
    security_event("service_created", actor=actor, subject=service, service_name=service.name)
    return service


@transaction.atomic
def service_update(
    *,
    service: Service,
    actor: Any,
    requirements: Sequence[dict[str, Any]] | None = None,
    **changes: Any,
) -> Service:
    for field, value in changes.items():
        setattr(service, field, value)
    service.save()
    if requirements is not None:
        _replace_requirements(service, requirements)
    fields = sorted([*changes, *(["requirements"] if requirements is not None else [])])
    security_event("service_updated", actor=actor, subject=service, fields=fields)
    return service


@transaction.atomic
def service_delete(*, service: Service, actor: Any) -> None:
    if service.appointments.exists():
        raise Conflict(
            f"'{service.name}' has appointments; set it inactive instead.", code="service_in_use"
        )
    security_event("service_deleted", actor=actor, subject=service, service_name=service.name)
    service.delete()
