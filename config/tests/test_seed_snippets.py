"""The original README's snippets work as written there."""

import pytest
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import schema_context

from appointments.models import Appointment
from core.models import Domain, Tenant
from resources.models import Resource
from users.models import User

pytestmark = pytest.mark.django_db

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


def test_quick_start_snippet_runs_verbatim_in_the_shell():
    call_command("shell", command=QUICK_START)
    tenant = Tenant.objects.get(schema_name="demo")
    assert tenant.subscription_tier == "PROFESSIONAL"
    assert Domain.objects.get(domain="demo.smoothschedule.local").tenant == tenant
    assert tables_in("demo") > 0
    call_command("migrate_schemas", verbosity=0)  # the seed's next step keeps working


def test_custom_domain_snippet_runs_verbatim_in_the_shell():
    call_command("shell", command=QUICK_START)
    call_command("shell", command=CUSTOM_DOMAIN)
    domain = Domain.objects.get(domain="app.customdomain.com")
    assert domain.is_custom_domain
    assert domain.verification_status == Domain.Verification.PENDING


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
