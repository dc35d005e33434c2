"""Tenant operations: exporting a busy tenant as an archive and importing it as a new tenant
(console.tenant_archive), against the baseline of provisioning an empty tenant (the import's fixed
cost: the schema clone).

The tenant holds ``BENCH_TENANTOPS_APPOINTMENTS`` appointments (default 2,000), each with one
allocation and half of them a charge, for as many customers / 4. ``python -m bench.tenantops``
runs this suite alone (small: ``BENCH_REPEATS=3 BENCH_TENANTOPS_APPOINTMENTS=500``).
"""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any


def _populate(tenant: Any, appointments: int) -> None:
    from django_tenants.utils import tenant_context

    from appointments.models import Allocation, Appointment
    from billing.models import Charge
    from catalog.models import Service
    from customers.models import Customer
    from resources.models import Resource

    with tenant_context(tenant):
        resource = Resource.objects.create(name="Chair", type="STAFF")
        service = Service.objects.create(name="Cut", duration_minutes=30, price=Decimal("30"))
        customers = Customer.objects.bulk_create(
            Customer(name=f"Customer {i}", email=f"c{i}@bench.test")
            for i in range(max(1, appointments // 4))
        )
        start = datetime(2030, 1, 1, tzinfo=UTC)
        booked = Appointment.objects.bulk_create(
            Appointment(
                customer=customers[i % len(customers)], service=service,
                starts_at=start + timedelta(minutes=30 * i),
                ends_at=start + timedelta(minutes=30 * (i + 1)),
                price=Decimal("30"), status="COMPLETED",
            )
            for i in range(appointments)
        )  # fmt: skip
        Allocation.objects.bulk_create(
            Allocation(resource=resource, appointment=a, starts_at=a.starts_at, ends_at=a.ends_at)
            for a in booked
        )
        Charge.objects.bulk_create(
            Charge(appointment=a, customer=a.customer, kind="APPOINTMENT", amount=a.price)
            for a in booked[::2]
        )


def bench_export_import(repeats: int) -> list[dict[str, Any]]:
    # Imported here: ``python -m bench.tenantops`` sets Django up after importing this module.
    from bench.measure import median_ms, tenant_drop, timed
    from console.tenant_archive import tenant_export, tenant_import
    from tenancy.services import tenant_provision

    appointments = int(os.environ.get("BENCH_TENANTOPS_APPOINTMENTS", "2000"))
    tenant_drop("bench_ops_src")
    source = tenant_provision(
        name="Bench source", schema_name="bench_ops_src", domain="bench-ops-src.bench"
    )
    _populate(source, appointments)
    exports, imports, provisions, size = [], [], [], 0
    for i in range(repeats):
        buffer = io.BytesIO()
        exports.append(timed(partial(tenant_export, tenant=source, destination=buffer)))
        size = len(buffer.getvalue())
        schema = f"bench_ops_copy_{i}"
        tenant_drop(schema)
        imports.append(
            timed(
                partial(
                    tenant_import,
                    source=io.BytesIO(buffer.getvalue()),
                    schema_name=schema,
                    domain=f"{schema.replace('_', '-')}.bench",
                    relabel_users=True,
                )
            )
        )
        tenant_drop(schema)
        empty = f"bench_ops_empty_{i}"
        tenant_drop(empty)
        provisions.append(
            timed(
                partial(
                    tenant_provision,
                    name=empty,
                    schema_name=empty,
                    domain=f"{empty.replace('_', '-')}.bench",
                )
            )
        )
        tenant_drop(empty)
    tenant_drop("bench_ops_src")
    provision_ms = median_ms(provisions)
    common = {
        "repeats": repeats,
        "appointments": appointments,
        "archive_bytes": size,
        "baseline": "provision an empty tenant (template clone)",
        "baseline_median_ms": provision_ms,
    }
    export_ms, import_ms = median_ms(exports), median_ms(imports)
    return [
        {
            "name": "tenant_export",
            "what": f"export a tenant with {appointments} appointments, allocations, charges",
            "median_ms": export_ms,
            "ratio_to_baseline": round(export_ms / provision_ms, 3),
            **common,
        },
        {
            "name": "tenant_import",
            "what": f"import that archive as a new tenant (one transaction, {appointments} "
            "appointments)",
            "median_ms": import_ms,
            "ratio_to_baseline": round(import_ms / provision_ms, 3),
            **common,
        },
    ]


def run(repeats: int) -> list[dict[str, Any]]:
    return bench_export_import(max(1, repeats // 10))


if __name__ == "__main__":
    import json
    import logging

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    django.setup()
    logging.getLogger("security").setLevel(logging.WARNING)
    from django.core.management import call_command

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    for result in run(int(os.environ.get("BENCH_REPEATS", "30"))):
        print(json.dumps(result))
