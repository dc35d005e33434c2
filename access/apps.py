from django.apps import AppConfig


class AccessConfig(AppConfig):
    """Grants, capabilities, permissions and masquerading. Its records (PermissionGrant,
    MasqueradeSession) keep the ``core`` app label their tables were created under."""

    name = "access"
    verbose_name = "Access"

    def ready(self) -> None:
        from access.masquerade.services import masquerades_end_on_password_change
        from users.signals import password_changed

        password_changed.connect(
            masquerades_end_on_password_change, dispatch_uid="masquerades_end_on_password_change"
        )
