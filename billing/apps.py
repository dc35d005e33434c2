from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from billing.personal_data import customer_spend, erase_charges, export_charges
        from customers.personal_data import register_annotator, register_eraser, register_exporter

        # A customer's charges: in the customer list's figures, its data export and erasure.
        register_annotator(customer_spend)
        register_exporter("charges", export_charges)
        register_eraser(erase_charges)
