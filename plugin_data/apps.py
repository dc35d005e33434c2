from django.apps import AppConfig


class PluginDataConfig(AppConfig):
    name = "plugin_data"
    verbose_name = "Plugin data (per tenant)"

    def ready(self) -> None:
        from catalog.figures import register_service_annotator
        from plugin_data.selectors import with_review_figures

        # The service list shows each service's rating average and count.
        register_service_annotator(with_review_figures)
