from django.apps import AppConfig


class PluginDataConfig(AppConfig):
    name = "plugin_data"
    verbose_name = "Plugin data (per tenant)"
