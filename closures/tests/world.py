"""A closure in a scheduling test world (``appointments.tests.world``): one day, twenty days
after the world's day, in the world's tenant (``build_world`` makes it, so the generated
endpoint tests find it before they take their snapshots)."""

from __future__ import annotations

from typing import Any

from django_tenants.utils import tenant_context

from closures.models import Closure


def world_closure(world: Any) -> Closure:
    with tenant_context(world.tenant):
        closure, _ = Closure.objects.get_or_create(
            title="World holiday",
            defaults={"starts_at": world.at(0, days=45), "ends_at": world.at(0, days=46)},
        )
    return closure
