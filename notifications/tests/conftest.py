from appointments.tests.conftest import world_a, world_b
from core.tests.conftest import security_lines

__all__ = ["security_lines", "world_a", "world_b"]
