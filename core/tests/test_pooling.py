"""Tenant selection behind a real PgBouncer in transaction pooling mode.

Several tenants hold services named after their own schema. Client threads send requests to every
tenant's host through the real WSGI handler (routing middleware, JWT authentication, DRF views),
a Celery worker (threads, Redis broker) runs tasks published on behalf of each tenant, and a
``manage.py tenant_command shell`` process reads one tenant, all at once; every database
connection goes through PgBouncer, which shares two server connections among all of them. Each
answer must name only its own tenant's services.

The scenario commits its data from threads of its own (the test's connection stays in its usual
rolled-back transaction) and removes it afterwards.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import psycopg
import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection, connections
from django_tenants.utils import schema_context
from psycopg import sql

from catalog.models import Service
from config.celery import app
from conftest import bearer
from core.tests.pooler import (
    PgBouncer,
    Site,
    get,
    in_own_thread,
    pgbouncer_binary,
    running_pgbouncer,
)
from core.tests.test_celery_worker import REDIS, redis_answers
from tenancy.models import Tenant
from tenancy.services import tenant_provision
from users.models import User
from users.tests.factories import UserFactory

REQUESTS = 10_000
CLIENT_THREADS = 4
TASKS = 600
WORKER_THREADS = 3
POOL_SIZE = 2
EXTRA_TENANTS = ("pool_gamma", "pool_delta")
SERVICES_PER_TENANT = 2
SHELL_TENANT = "pool_gamma"
SHELL_READS = 300


@pytest.fixture(scope="module")
def pgbouncer(django_db_setup: None) -> Iterator[PgBouncer]:
    if pgbouncer_binary() is None:
        pytest.skip("no pgbouncer binary (make test installs Debian's pgbouncer package)")
    with running_pgbouncer(connection.settings_dict, pool_size=POOL_SIZE) as bouncer:
        yield bouncer


@contextmanager
def new_connections_through(bouncer: PgBouncer) -> Iterator[None]:
    """Every connection opened meanwhile, in any thread, goes through PgBouncer (each thread's
    Django connection is built from this one shared settings dict)."""
    settings_dict = connection.settings_dict
    saved = settings_dict["HOST"], settings_dict["PORT"]
    settings_dict["HOST"], settings_dict["PORT"] = bouncer.host, bouncer.port
    try:
        yield
    finally:
        settings_dict["HOST"], settings_dict["PORT"] = saved


def _build_sites() -> list[Site]:
    for schema in EXTRA_TENANTS:
        tenant_provision(name=schema, schema_name=schema, domain=f"{schema.replace('_', '-')}.test")
    sites = []
    for tenant in Tenant.objects.filter(schema_name__in=("alpha", "beta", *EXTRA_TENANTS)):
        owner = UserFactory.create(
            role="TENANT_OWNER", tenant=tenant, email=f"pool@{tenant.schema_name}"
        )
        with schema_context(tenant.schema_name):
            for number in range(SERVICES_PER_TENANT):
                Service.objects.create(
                    name=f"{tenant.schema_name} service {number}", duration_minutes=30, price=10
                )
        host = tenant.domains.get(is_primary=True).domain
        sites.append(Site(tenant.schema_name, host, bearer(owner, tenant.schema_name)))
    return sorted(sites, key=lambda site: site.schema)


def _remove_sites(sites: list[Site]) -> None:
    for site in sites:
        with schema_context(site.schema):
            Service.objects.filter(name__startswith=f"{site.schema} service").delete()
    User.objects.filter(email__startswith="pool@").delete()
    for schema in EXTRA_TENANTS:
        Tenant.objects.filter(schema_name=schema).delete()
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
            )


@pytest.fixture
def sites(db: None) -> Iterator[list[Site]]:
    built = in_own_thread(_build_sites)
    try:
        yield built
    finally:
        in_own_thread(lambda: _remove_sites(built))


def _whose(schema: str, names: list[str]) -> str:
    if not names:
        return "nothing"
    if all(name.startswith(f"{schema} service") for name in names):
        return "own"
    return "cross-tenant"


def _client(handler: WSGIHandler, sites: list[Site], first: int, count: int) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    try:
        for number in range(count):
            site = sites[(first + number) % len(sites)]
            status, body = get(handler, site, "/api/services/")
            if status.startswith("200"):
                names = [row["name"] for row in json.loads(body)["results"]]
                outcomes[_whose(site.schema, names)] += 1
            else:
                outcomes[f"error {status}"] += 1
    finally:
        connections.close_all()
    return outcomes


observed: queue.Queue[str] = queue.Queue()


@app.task(name="core.tests.test_pooling.report_service_names")
def report_service_names(schema: str) -> None:
    """Runs in the worker, in the tenant the task was sent from."""
    try:
        names = list(Service.objects.values_list("name", flat=True))
    except Exception as error:  # every failure is an outcome to count
        observed.put(f"error {type(error).__name__}")
    else:
        observed.put(_whose(schema, names))


def _publish(sites: list[Site], queue_name: str) -> None:
    for number in range(TASKS):
        site = sites[number % len(sites)]
        with schema_context(site.schema):
            report_service_names.apply_async(args=[site.schema], queue=queue_name)


def _task_outcomes(deadline: float) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    while outcomes.total() < TASKS:
        try:
            outcomes[observed.get(timeout=max(deadline - time.monotonic(), 0.01))] += 1
        except queue.Empty:
            outcomes["never ran"] = TASKS - outcomes.total()
    return outcomes


def _start_shell(bouncer: PgBouncer) -> subprocess.Popen[str]:
    """``manage.py tenant_command shell`` on one tenant, its connection through PgBouncer."""
    database = connection.settings_dict
    # DATABASE=embedded (CI's second run) would win over DATABASE_URL.
    environment = {key: value for key, value in os.environ.items() if key != "DATABASE"} | {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{bouncer.host}:{bouncer.port}/{database['NAME']}"
        ),
        "DATABASE_POOL_MODE": "transaction",
    }
    code = (
        "import json\n"
        "from catalog.models import Service\n"
        "seen = set()\n"
        f"for _ in range({SHELL_READS}):\n"
        "    seen.update(Service.objects.values_list('name', flat=True))\n"
        "print('SEEN', json.dumps(sorted(seen)))\n"
    )
    command = ["tenant_command", "shell", f"--schema={SHELL_TENANT}", "--command", code]
    return subprocess.Popen(
        [sys.executable, "manage.py", *command],
        cwd=settings.BASE_DIR,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _shell_outcome(shell: subprocess.Popen[str]) -> str:
    output, _ = shell.communicate(timeout=60)
    seen = [line for line in output.splitlines() if line.startswith("SEEN ")]
    if shell.returncode != 0 or not seen:
        return f"error {shell.returncode}: {output[-2000:]}"
    return _whose(SHELL_TENANT, json.loads(seen[0].removeprefix("SEEN ")))


def _server_connections(bouncer: PgBouncer) -> int:
    database = connection.settings_dict
    with psycopg.connect(
        host=bouncer.host,
        port=bouncer.port,
        dbname="pgbouncer",
        user=database["USER"],
        autocommit=True,
    ) as admin:
        return len(admin.execute("SHOW SERVERS").fetchall())


@pytest.mark.skipif(not redis_answers(), reason="no Redis on 127.0.0.1:6379 (make test starts one)")
def test_no_request_task_or_command_reads_another_tenant_behind_a_transaction_pooler(
    pgbouncer: PgBouncer, sites: list[Site]
) -> None:
    handler = WSGIHandler()
    queue_name = f"test-pooling-{uuid.uuid4().hex}"
    app.conf.broker_url = f"redis://{REDIS[0]}:{REDIS[1]}/0"
    shell = _start_shell(pgbouncer)
    with (
        new_connections_through(pgbouncer),
        start_worker(
            app,
            pool="threads",
            concurrency=WORKER_THREADS,
            perform_ping_check=False,
            queues=[queue_name],
        ),
        ThreadPoolExecutor(max_workers=CLIENT_THREADS + 1) as pool,
    ):
        publishing = pool.submit(_publish, sites, queue_name)
        clients = [
            pool.submit(_client, handler, sites, first, REQUESTS // CLIENT_THREADS)
            for first in range(CLIENT_THREADS)
        ]
        request_outcomes = sum((client.result() for client in clients), Counter())
        publishing.result()
        task_outcomes = _task_outcomes(deadline=time.monotonic() + 60)
        shell_outcome = _shell_outcome(shell)
        servers = _server_connections(pgbouncer)

    assert (request_outcomes, task_outcomes, shell_outcome) == (
        Counter({"own": REQUESTS}),
        Counter({"own": TASKS}),
        "own",
    )
    assert servers <= POOL_SIZE  # all of them shared these server connections
