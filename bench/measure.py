"""What every benchmark suite measures with: timing, medians, and removing a bench tenant."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from django.db import connection
from psycopg import sql

from tenancy.models import Tenant


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
