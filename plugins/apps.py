from django.apps import AppConfig


class PluginsConfig(AppConfig):
    name = "plugins"
    verbose_name = "Plugin marketplace"

    def ready(self) -> None:
        from appointments.booking_policy import register_booking_status_policy
        from notifications.handlers import register_installed_handlers
        from plugins.builtin.no_show import booking_status
        from plugins.registry import installed_plugins
        from plugins.selectors import plugin_active

        # The outbox hands each event to the tenant's enabled plugins that want it.
        register_installed_handlers(installed=installed_plugins, active=plugin_active)
        # No-show tracking decides whether a new booking is confirmed at once.
        register_booking_status_policy(booking_status)
