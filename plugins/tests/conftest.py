from appointments.tests.conftest import world_a, world_b
from core.tests.conftest import browser, security_lines

__all__ = ["browser", "security_lines", "world_a", "world_b"]
