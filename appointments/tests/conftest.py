from __future__ import annotations

import pytest

from appointments.tests.world import World, build_world
from conftest import connection


@pytest.fixture
def world_a(tenant_a) -> World:
    """Tenant A's business; the connection stays on A's schema."""
    connection.set_tenant(tenant_a)
    return build_world(tenant_a)


@pytest.fixture
def world_b(tenant_b) -> World:
    connection.set_tenant(tenant_b)
    world = build_world(tenant_b)
    return world
