from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    """The operators' console: the admin, the platform API, tenant settings, tenant operations."""

    name = "console"
    verbose_name = "Console"
