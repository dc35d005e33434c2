from django.apps import AppConfig


class AppointmentsConfig(AppConfig):
    name = "appointments"
    verbose_name = "Appointments"

    def ready(self) -> None:
        from appointments.selectors import appointments_inside
        from closures.affected import register_affected_finder

        # A closure reports the open appointments inside it (and keeps them).
        register_affected_finder(appointments_inside)
