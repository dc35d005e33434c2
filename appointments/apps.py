from django.apps import AppConfig


class AppointmentsConfig(AppConfig):
    name = "appointments"
    verbose_name = "Appointments"

    def ready(self) -> None:
        from appointments.confirmations import GuestBookingConfirmation
        from appointments.models import Appointment
        from appointments.personal_data import (
            customer_visit_figures,
            erase_appointments,
            export_appointments,
        )
        from appointments.selectors import appointments_inside
        from closures.affected import register_affected_finder
        from customers.personal_data import register_annotator, register_eraser, register_exporter
        from notifications.events import appointment_payload, register_payload_builder
        from notifications.handlers import register_platform_handler

        # A closure reports the open appointments inside it (and keeps them).
        register_affected_finder(appointments_inside)
        # A customer's appointments: in the customer list's figures, its data export and erasure.
        register_annotator(customer_visit_figures)
        register_exporter("appointments", export_appointments)
        register_eraser(erase_appointments)
        # An appointment's outbox events carry it as webhooks and handlers see it.
        register_payload_builder(Appointment, appointment_payload)
        # A guest's booking confirmation goes out for every business, plugins or not.
        register_platform_handler(GuestBookingConfirmation())
