from appointments.tests.conftest import world_a, world_b

__all__ = ["world_a", "world_b"]
