"""A database connection is closed between requests once it has read a configured number of
schemas: each schema a PostgreSQL backend reads keeps its catalog cache until the backend exits."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import override_settings
from django_tenants.utils import schema_context

from appointments.models import Appointment
from tenancy.provisioning import on_own_connection

pytestmark = pytest.mark.django_db


def _backend_after_reading(schemas: list[str]) -> tuple[int, int]:
    """On a connection of its own (outside any transaction, as between two requests): the server
    process before and after reading ``schemas`` and recycling."""

    def run() -> tuple[int, int]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            before = cursor.fetchone()[0]
        for schema in schemas:
            with schema_context(schema):
                Appointment.objects.exists()
        connection.close_if_unusable_or_obsolete()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return before, cursor.fetchone()[0]

    return on_own_connection(run)


@override_settings(DATABASE_MAX_SCHEMAS_PER_CONNECTION=3)
def test_a_connection_that_read_the_maximum_of_schemas_is_recycled_between_requests():
    before, after = _backend_after_reading(["alpha", "beta"])  # and public: three paths
    assert before != after


@override_settings(DATABASE_MAX_SCHEMAS_PER_CONNECTION=4)
def test_a_connection_below_the_maximum_is_kept():
    before, after = _backend_after_reading(["alpha", "beta"])
    assert before == after
