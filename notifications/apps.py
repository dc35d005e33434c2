from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from customers.personal_data import register_eraser
        from notifications.personal_data import erase_outbox_copies

        # An erased customer's copies in the outbox are scrubbed too.
        register_eraser(erase_outbox_copies)
