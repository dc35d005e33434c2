from appointments.tests.conftest import world_a  # noqa: F401 (the scheduling world fixture)
