from django.apps import AppConfig


class PluginDataConfig(AppConfig):
    name = "plugin_data"
    verbose_name = "Plugin data (per tenant)"

    def ready(self) -> None:
        from catalog.figures import register_service_annotator
        from customers.personal_data import register_eraser, register_exporter
        from plugin_data.personal_data import (
            erase_reviews_and_preferences,
            export_preferences,
            export_reviews,
        )
        from plugin_data.selectors import with_review_figures

        # The service list shows each service's rating average and count.
        register_service_annotator(with_review_figures)
        # A customer's reviews and e-mail preferences: in its data export and erasure.
        register_exporter("reviews", export_reviews)
        register_exporter("preferences", export_preferences)
        register_eraser(erase_reviews_and_preferences)
