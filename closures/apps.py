from django.apps import AppConfig


class ClosuresConfig(AppConfig):
    name = "closures"
    verbose_name = "Closures"
