"""What every benchmark suite measures with: timing, medians, removing a bench tenant, and the
default connection typed as the tenant-aware backend it is."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any, cast

from django.db import connection as default_connection
from psycopg import sql

from core.db.base import DatabaseWrapper
from tenancy.models import Tenant

# ENGINE "core.db" (config/database.py): django-stubs types ``django.db.connection`` as Django's
# base wrapper, which has no ``set_tenant()``/``set_schema()``. The suites import it from here.
connection = cast(DatabaseWrapper, default_connection)


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 3)


def timed(action: Callable[[], Any]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def tenant_drop(schema: str) -> None:
    """Remove a bench tenant's row and its schema, whatever state an earlier run left."""
    connection.set_schema_to_public()
    Tenant.objects.filter(schema_name=schema).delete()
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
