from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data: ``manage.py seed_demo`` and the week of appointments it seeds."""

    name = "demo"
    verbose_name = "Demo"
