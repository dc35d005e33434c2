"""Periodic jobs of platform operations."""

from __future__ import annotations

from typing import cast

from celery import shared_task
from django.db import connection

from console.services import tenant_deletion_execute
from core.db.base import DatabaseWrapper
from tenancy.selectors import tenants_due_for_deletion


# The task keeps the name it was scheduled under before the console had its own package.
@shared_task(name="core.tasks.purge_deleted_tenants", ignore_result=True)
def purge_deleted_tenants() -> int:
    """Delete every tenant whose deletion grace period is over, each in its own transaction (a
    failing one leaves the others done and is tried again on the next run)."""
    cast(DatabaseWrapper, connection).set_schema_to_public()
    return sum(tenant_deletion_execute(tenant_id=pk) for pk in tenants_due_for_deletion())
