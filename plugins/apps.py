from django.apps import AppConfig


class PluginsConfig(AppConfig):
    name = "plugins"
    verbose_name = "Plugin marketplace"

    def ready(self) -> None:
        from notifications.handlers import register_installed_handlers
        from plugins.registry import installed_plugins
        from plugins.selectors import plugin_active

        # The outbox hands each event to the tenant's enabled plugins that want it.
        register_installed_handlers(installed=installed_plugins, active=plugin_active)
