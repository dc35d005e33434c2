"""The original README's snippets work as written there."""

import http.client
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import schema_context
from psycopg import sql
from psycopg.conninfo import make_conninfo

from appointments.models import Appointment
from resources.models import Resource
from tenancy.models import Domain, Tenant
from users.models import User

QUICK_START = """
from core.models import Tenant, Domain

tenant = Tenant.objects.create(
    name="Demo Company",
    schema_name="demo",
    subscription_tier="PROFESSIONAL",
)

Domain.objects.create(
    domain="demo.smoothschedule.local",
    tenant=tenant,
    is_primary=True,
)
"""

CUSTOM_DOMAIN = """
from core.models import Tenant, Domain
tenant = Tenant.objects.get(schema_name="demo")
domain = Domain.objects.create(
    domain="app.customdomain.com",
    tenant=tenant,
    is_custom_domain=True,
    route53_zone_id="Z1234567890ABC",
)
"""


def tables_in(schema: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s", [schema]
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_quick_start_snippet_runs_verbatim_in_the_shell():
    call_command("shell", command=QUICK_START)
    tenant = Tenant.objects.get(schema_name="demo")
    assert tenant.subscription_tier == "PROFESSIONAL"
    assert Domain.objects.get(domain="demo.smoothschedule.local").tenant == tenant
    assert tables_in("demo") > 0
    call_command("migrate_schemas", verbosity=0)  # the seed's next step keeps working


@pytest.mark.django_db
def test_custom_domain_snippet_runs_verbatim_in_the_shell():
    call_command("shell", command=QUICK_START)
    call_command("shell", command=CUSTOM_DOMAIN)
    domain = Domain.objects.get(domain="app.customdomain.com")
    assert domain.is_custom_domain
    assert domain.verification_status == Domain.Verification.PENDING


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_makes_every_role(capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    tenant = Tenant.objects.get(schema_name="demo")
    assert Domain.objects.get(domain="demo.localhost").tenant == tenant
    roles = set(
        User.objects.filter(email__endswith="demo.localhost").values_list("role", flat=True)
    )
    assert roles == {"TENANT_OWNER", "TENANT_MANAGER", "TENANT_STAFF", "CUSTOMER"}
    platform_roles = set(User.objects.filter(tenant=None).values_list("role", flat=True))
    assert {"SUPERUSER", "PLATFORM_MANAGER", "PLATFORM_SALES", "PLATFORM_SUPPORT"} <= platform_roles
    assert User.objects.filter(email="owner@demo.localhost").count() == 1
    assert "demo-password-2026" in capsys.readouterr().out
    with schema_context("demo"):
        assert Appointment.objects.count() > 0
        assert Resource.objects.filter(user__email="staff@demo.localhost").exists()


@pytest.mark.django_db
def test_django_tenants_create_tenant_command_keeps_working():
    call_command(
        "create_tenant",
        schema_name="delta",
        name="Delta Repairs",
        domain_domain="delta.localhost",
        domain_is_primary=True,
        interactive=False,
        verbosity=0,
    )
    tenant = Tenant.objects.get(schema_name="delta")
    assert tenant.domains.get().domain == "delta.localhost"
    assert tables_in("delta") > 0


ROOT = Path(__file__).resolve().parent.parent.parent
SUPERUSER_EMAIL, SUPERUSER_PASSWORD = "admin@smoothschedule.local", "a-long-fresh-password-2026"


def _server() -> dict[str, str]:
    """How to reach the server the test database lives on (whichever one the suite runs on)."""
    config = settings.DATABASES["default"]
    found = {"host": config["HOST"], "port": str(config["PORT"] or ""), "user": config["USER"]}
    found["password"] = config["PASSWORD"] or ""
    return found


def _admin_connection() -> psycopg.Connection:
    server = _server()
    params = {"dbname": "postgres", **{k: v for k, v in server.items() if v}}
    return psycopg.connect(make_conninfo(**params), autocommit=True)


@pytest.fixture
def brand_new_database(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A database nobody has touched (a fresh name: no tables, no template), the environment a
    ``manage.py`` subprocess needs to use it, and the database dropped afterwards."""
    name = f"ss_fresh_{uuid.uuid4().hex[:12]}"
    with _admin_connection() as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    server = _server()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE", "DATABASE_URL", "POSTGRES_PORT", "DJANGO_SETTINGS_MODULE")
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "POSTGRES_DB": name,
        "POSTGRES_HOST": server["host"],
        "POSTGRES_USER": server["user"],
        "POSTGRES_PASSWORD": server["password"],
        "LOG_DIR": str(tmp_path),
        "DJANGO_SUPERUSER_EMAIL": SUPERUSER_EMAIL,
        "DJANGO_SUPERUSER_PASSWORD": SUPERUSER_PASSWORD,
    }
    if server["port"]:
        env["POSTGRES_PORT"] = server["port"]
    try:
        yield env
    finally:
        with _admin_connection() as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _manage(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-4000:])
    assert "Traceback" not in done.stderr, (args, done.stderr[-4000:])
    return done.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _http(port: int, method: str, path: str, host: str, **headers: str) -> tuple[int, dict]:
    body = headers.pop("body", None)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers={"Host": host, **headers})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


def test_seed_quick_start_works_on_a_brand_new_database(brand_new_database):
    env = brand_new_database
    _manage(env, "migrate_schemas", "--shared", "--verbosity=0")
    _manage(env, "createsuperuser", "--noinput")
    _manage(env, "shell", stdin=QUICK_START)  # step 5, verbatim, in an autocommit shell
    _manage(env, "migrate_schemas", "--verbosity=0")

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload",
         "--skip-checks"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, server.stderr.read().decode()[-4000:]
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "runserver never listened"
                time.sleep(0.1)
        status, tokens = _http(
            port, "POST", "/api/auth/token/", "localhost",
            body=json.dumps({"email": SUPERUSER_EMAIL, "password": SUPERUSER_PASSWORD}),
            **{"Content-Type": "application/json"},
        )  # fmt: skip
        assert status == 200, tokens
        bearer = {"Authorization": f"Bearer {tokens['access']}"}
        demo = "demo.smoothschedule.local"
        status, me = _http(port, "GET", "/api/me/", demo, **bearer)
        assert (status, me["email"]) == (200, SUPERUSER_EMAIL), me
        # A tenant table answers on the tenant's host: its schema was provisioned and migrated.
        status, services = _http(
            port, "GET", "/api/services/", "demo.smoothschedule.local", **bearer
        )
        assert (status, services["count"]) == (200, 0), services
    finally:
        server.terminate()
        server.wait(timeout=10)
    # The shell's tenant (its template built on a connection of its own) was audited on the
    # shell's connection, committed, in the public table, and mirrored to the log on commit.
    params = {k: v for k, v in _server().items() if v}
    with psycopg.connect(**params, dbname=env["POSTGRES_DB"]) as fresh:
        created = fresh.execute(
            "SELECT tenant_schema FROM public.core_auditevent WHERE action = 'tenant_created'"
        ).fetchall()
    assert created == [("demo",)]
    log = Path(env["LOG_DIR"], "security.log").read_text().splitlines()
    assert [
        line["tenant"] for line in map(json.loads, log) if line["event"] == "tenant_created"
    ] == ["demo"]
