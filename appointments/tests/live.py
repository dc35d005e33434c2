"""Real HTTP for concurrency and fault tests: the project's WSGI application behind Django's own
threaded server on a free port of 127.0.0.1 (each request in its own thread, on its own database
connection, with the request signals that recycle broken connections), and the committed schedule
those requests book on.

The test's own connection sits in a transaction other connections cannot see into, so scenarios
run on a connection of their own (``tenancy.provisioning.on_own_connection``), commit what they set
up on this test worker's database and remove it afterwards; the session tenants are left as they
were.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.utils import timezone

from appointments.models import Allocation, Appointment
from catalog.models import Service
from catalog.services import service_create
from conftest import connection
from customers.models import Customer
from resources.models import Resource
from resources.services import resource_create
from tenancy.models import Tenant
from users.tests.factories import UserFactory


class _Server(ThreadedWSGIServer):
    request_queue_size = 64  # every client of a burst connects at once


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serving() -> Iterator[int]:
    """The application on a free port; yields the port."""
    server = _Server(("127.0.0.1", 0), _QuietHandler)
    server.set_app(WSGIHandler())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


def request(
    port: int, method: str, path: str, *, host: str, body: Any = None, **headers: str
) -> Answer:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        payload = None if body is None else json.dumps(body)
        sent = {"Host": host, "Content-Type": "application/json", **headers}
        conn.request(method, path, body=payload, headers=sent)
        response = conn.getresponse()
        raw = response.read()
        received = {k.lower(): v for k, v in response.getheaders()}
        parsed = json.loads(raw) if received.get("content-type") == "application/json" else raw
        return Answer(response.status, received, parsed)
    finally:
        conn.close()


@dataclass(frozen=True)
class Schedule:
    tenant: Tenant
    owner: Any
    resources: list[Resource]
    service: Service
    customer: Customer
    day: datetime


@contextmanager
def committed_schedule(resource_count: int = 1) -> Iterator[Schedule]:
    """In tenant alpha, committed: an owner, resources open around the clock, a one-hour service
    any of them can serve, a customer; all removed afterwards."""
    tenant = Tenant.objects.get(schema_name="alpha")
    connection.set_tenant(tenant)
    owner = UserFactory.create(role="TENANT_OWNER", tenant=tenant)
    every_hour = [{"weekday": d, "start_time": time(0), "end_time": time(23)} for d in range(7)]
    resources = [
        resource_create(
            tenant=tenant,
            actor=owner,
            name=f"Contested chair {i}",
            type="EQUIPMENT",
            working_hours=every_hour,
        )
        for i in range(resource_count)
    ]
    service = service_create(
        actor=owner,
        name="Contested",
        duration_minutes=60,
        price=Decimal("10"),
        requirements=[{"resource_type": "EQUIPMENT", "eligible_resources": resources}],
    )
    customer = Customer.objects.create(name="Racer")
    day = (timezone.now() + timedelta(days=3)).replace(hour=1, minute=0, second=0, microsecond=0)
    try:
        yield Schedule(tenant, owner, resources, service, customer, day)
    finally:
        connection.set_tenant(tenant)
        Allocation.objects.filter(resource__in=resources).delete()
        Appointment.objects.filter(service=service).delete()
        Service.objects.filter(pk=service.pk).delete()
        Customer.objects.filter(pk=customer.pk).delete()
        Resource.objects.filter(pk__in=[r.pk for r in resources]).delete()
        connection.set_schema_to_public()
        owner.delete()
