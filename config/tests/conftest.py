from appointments.tests.conftest import world_a, world_b
from core.tests.conftest import silent_dns, task_queue

__all__ = ["silent_dns", "task_queue", "world_a", "world_b"]
