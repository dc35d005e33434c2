"""Demo data for local use: a demo tenant with one user of every role and a realistic week of
schedule, and platform staff.

Idempotent: running it again changes nothing that is already there. The passwords are for
development only (they are printed, and listed in the README).
"""

import contextlib
import logging
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from demo.fixtures import demo_week_seed
from tenancy.models import Domain, Tenant
from tenancy.services import tenant_provision
from users.models import User
from users.roles import Role
from users.services import user_create

DEMO_SCHEMA = "demo"
DEMO_HOST = "demo.localhost"
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 -- development seed, documented in the README

PLATFORM_USERS = [
    ("admin@smoothschedule.local", Role.SUPERUSER),
    ("manager@smoothschedule.local", Role.PLATFORM_MANAGER),
    ("sales@smoothschedule.local", Role.PLATFORM_SALES),
    ("support@smoothschedule.local", Role.PLATFORM_SUPPORT),
]
TENANT_USERS = [
    ("owner@demo.localhost", Role.TENANT_OWNER),
    ("manager@demo.localhost", Role.TENANT_MANAGER),
    ("staff@demo.localhost", Role.TENANT_STAFF),
    ("customer@demo.localhost", Role.CUSTOMER),
]


@contextlib.contextmanager
def _audit_echo_muted() -> Iterator[None]:
    """The audit lines still reach logs/security.log; only their console copy (for container log
    collectors) is held back, so the credentials banner is what a developer sees."""
    security = logging.getLogger("security")
    echoes = [h for h in security.handlers if h.name == "security_stdout"]
    for handler in echoes:
        security.removeHandler(handler)
    try:
        yield
    finally:
        for handler in echoes:
            security.addHandler(handler)


class Command(BaseCommand):
    help = "Create (or keep) the demo tenant on demo.localhost and one user of every role."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--port", type=int, default=8000, help="The port the banner's URLs name (make run's)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.SEED_DEMO_ALLOWED:
            # Its accounts' password is published (README): they must never exist in production.
            raise CommandError(
                "seed_demo refuses to run with these settings (SEED_DEMO_ALLOWED is off, as in "
                "config.settings.production): the demo accounts' password is public."
            )
        quiet = options["verbosity"] < 2
        with _audit_echo_muted() if quiet else contextlib.nullcontext():
            self._seed()
        self._report(options["port"])

    def _seed(self) -> None:
        tenant = Tenant.objects.filter(schema_name=DEMO_SCHEMA).first()
        if tenant is None:
            tenant = tenant_provision(
                name="Demo Company",
                schema_name=DEMO_SCHEMA,
                domain=DEMO_HOST,
                subscription_tier=Tenant.Tier.PROFESSIONAL,
                timezone="Europe/London",
                cancellation_window_hours=24,
                late_cancellation_fee_percent=Decimal("50"),
            )
        elif not Domain.objects.filter(domain=DEMO_HOST).exists():
            Domain.objects.create(domain=DEMO_HOST, tenant=tenant, is_primary=True)

        with transaction.atomic():
            for email, role in PLATFORM_USERS:
                self._ensure_user(email, role, None)
            for email, role in TENANT_USERS:
                self._ensure_user(email, role, tenant)
        # After the users: the week links the demo staff and customer accounts to its records.
        demo_week_seed(tenant=tenant)

    def _ensure_user(self, email: str, role: str, tenant: Tenant | None) -> None:
        if User.objects.filter(email__iexact=email).exists():
            return
        user_create(
            actor=None,
            email=email,
            role=role,
            tenant=tenant,
            password=DEMO_PASSWORD,
            first_name=role.replace("_", " ").title(),
            is_temporary=tenant is not None,
        )

    def _report(self, port: int) -> None:
        self.stdout.write(
            self.style.SUCCESS(f"Demo tenant '{DEMO_SCHEMA}' on http://{DEMO_HOST}:{port}/api/")
        )
        self.stdout.write(f"Admin: http://localhost:{port}/admin/")
        self.stdout.write(f"Every demo account's password (development only): {DEMO_PASSWORD}")
        for email, role in PLATFORM_USERS + TENANT_USERS:
            self.stdout.write(f"  {role:<17} {email}")
