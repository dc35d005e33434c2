from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from customers.personal_data import register_eraser
        from customers.signals import customer_created
        from notifications.events import customer_created_emit, register_dispatcher
        from notifications.personal_data import erase_outbox_copies
        from notifications.tasks import enqueue_event_dispatch

        # A committed event is handed to a worker at once (the sweep catches up otherwise).
        register_dispatcher(enqueue_event_dispatch)

        # A new customer is an outbox event (webhooks, plugins).
        customer_created.connect(
            customer_created_emit, dispatch_uid="notifications.customer_created"
        )

        # An erased customer's copies in the outbox are scrubbed too.
        register_eraser(erase_outbox_copies)
