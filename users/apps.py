from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "users"
    verbose_name = "Users"

    def ready(self) -> None:
        from users import schema, signals  # noqa: F401 -- OpenAPI auth schemes, login audit
