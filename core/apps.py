from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Platform"

    def ready(self) -> None:
        from core import checks  # noqa: F401
        from core.api import openapi  # noqa: F401 -- OpenAPI field extensions
        from core.db import checks as database_checks  # noqa: F401
