"""Every service function that writes records exactly one audit event, in the write's own
transaction: none when the write rolls back, and no write when its event cannot be recorded.

The service functions are found, not listed: every public function of every ``services.py`` (or
``services/`` package) in the project, and of the modules in ``EXTRA_SERVICE_MODULES``
(grants, custom domains, tenant archives, tokens, sign-in, browser and token masquerades). Each one
needs a recipe below that performs it, or an entry in ``NOT_WRITES`` saying why it writes
nothing; a new service without either fails ``test_every_service_function_has_a_recipe``.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import io
import itertools
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, transaction
from django.db.models import Model
from django.db.models.signals import pre_save
from django.test import RequestFactory
from django.utils import timezone
from PIL import Image
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from access import grants
from access.http import request_masquerade_mark
from access.masquerade import services as masquerade
from access.masquerade import sessions as masquerade_sessions
from access.masquerade import tokens as masquerade_tokens
from access.models import MasqueradeSession, PermissionGrant
from apikeys.models import APIKey
from apikeys.services import api_key_create, api_key_revoke
from appointments.manage_links import manage_token
from appointments.models import Allocation, Appointment, AppointmentSeries, Blocker, WaitlistEntry
from appointments.services import (
    appointment_book,
    appointment_book_as_user,
    appointment_reschedule,
    appointment_transition,
    appointment_update,
    blocker_create,
    blocker_delete,
    blocker_update,
    guest,
    slot_holds,
)
from appointments.services.booking import customer_booked_for
from appointments.services.offers import claim_token
from appointments.services.series import series_book, series_cancel, series_reschedule
from appointments.services.waitlist import (
    waitlist_claim,
    waitlist_join,
    waitlist_leave,
    waitlist_offers_expire,
)
from appointments.tests.conftest import world_a
from appointments.tests.world import World
from billing.models import Charge
from billing.services import charge_create, charge_set_status
from catalog.models import Service
from catalog.services import service_create, service_delete, service_update
from closures.models import Closure
from closures.services import closure_create, closure_delete, closure_update
from conftest import HOST_A, PASSWORD, PLATFORM_HOST, connection
from console import services as console_services
from console import tenant_archive
from core import clock
from core.models import AuditEvent
from core.uploads import validated_image
from customers.models import Customer
from customers.services import (
    customer_create,
    customer_delete,
    customer_erase,
    customer_for_booking_user,
    customer_personal_data_export,
    customer_update,
)
from notifications.links import link_token
from notifications.models import Delivery, OutboxEvent
from notifications.services import delivery_redeliver
from notifications.templates import TemplateSource
from plugin_data.models import CustomerPreference, EmailTemplate, Review, WebhookEndpoint
from plugins import services as plugin_services
from plugins.data import services as plugin_data_services
from plugins.models import PluginInstallation, PluginRating, PluginTemplate
from plugins.tests.helpers import install
from resources.models import DateOverride, Resource
from resources.services import (
    date_override_create,
    date_override_delete,
    date_override_update,
    ical_token_revoke,
    ical_token_rotate,
    resource_create,
    resource_delete,
    resource_photo_set,
    resource_update,
)
from tenancy import domains, route53
from tenancy import services as tenancy_services
from tenancy.http import request_tenant_set
from tenancy.models import Domain, Tenant
from tenancy.selectors import platform_tenant
from users import services as user_services
from users import tokens
from users.models import User
from users.roles import Role
from users.tests.factories import UserFactory

__all__ = ["world_a"]

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a-brand-new-passphrase-2026"

ROOT = Path(settings.BASE_DIR)
# Writes that live outside a services module: grants, custom domains, tokens, the sign-in guard.
EXTRA_SERVICE_MODULES = (
    "access.grants",
    "access.masquerade.sessions",
    "access.masquerade.tokens",
    "tenancy.domains",
    "users.tokens",
    "users.signin",
    "console.tenant_archive",
)

# Public functions of service modules that write nothing themselves, and why.
NOT_WRITES = {
    "users.services.user_authenticate_on_host": "checks a sign-in; its refusals are events",
    "appointments.services.holds.hold_resources": "writes inside the audited booking/blocker",
    "appointments.services.holds.busy_conflict": "builds an error",
    "appointments.services.holds.is_exclusion_violation": "a check",
    "appointments.services.lifecycle.late_cancellation_fee": "arithmetic",
    "appointments.services.lifecycle.cancellation_effects": "writes inside the audited "
    "cancellation (single or series)",
    "appointments.services.booking.book_one": "writes inside the audited booking, series or claim",
    "appointments.services.seats.session_full": "builds an error",
    "appointments.services.seats.session_for": "writes inside the audited booking",
    "appointments.services.seats.seat_take": "writes inside the audited booking",
    "appointments.services.seats.seat_fill_reserved": "writes inside the audited claim",
    "appointments.services.seats.seat_free": "writes inside the audited cancellation",
    "appointments.services.offers.offer_window": "reads a setting",
    "appointments.services.offers.claim_token": "signs a value",
    "appointments.services.offers.claim_path": "builds a link",
    "appointments.services.offers.waitlist_offer_next": "writes inside the audited cancellation, "
    "leave or expiry",
    "appointments.services.offers.place_release": "writes inside the audited cancellation",
    "appointments.services.offers.offer_lapse": "writes inside the audited leave, claim or expiry",
    "appointments.services.series.series_starts": "a check",
    "appointments.services.slot_holds.slot_hold_take": "removes a slot hold inside the audited "
    "guest booking that takes its place",
    "tenancy.domains.cname_target": "reads a setting",
    "tenancy.domains.zone_for": "reads a setting",
    "tenancy.domains.challenge_name": "builds a name",
    "tenancy.domains.record_created_for": "a read",
    "tenancy.domains.records_to_publish": "a read",
    "users.tokens.token_pair_issue": "records a token id inside the audited sign-in, refresh and "
    "password change",
    "users.signin.address_attempt": "counts in the cache, not a record; the throttle it sets off "
    "is an event (login_throttled)",
    "users.signin.signin_attempt_begin": "counts in the cache, not a record (via address_attempt)",
    "users.signin.signin_attempt_failed": "changes nothing; records the lockout its attempt set "
    "(login_locked_out)",
    "users.signin.signin_attempt_succeeded": "forgets cache counters, not a record",
    "access.masquerade.services.masquerades_end_on_password_change": "ends them (each audited "
    "HIJACK_END) inside the audited password change",
    "access.masquerade.services.masquerade_check": "refuses (an event, HIJACK_DENIED) or passes",
    "access.masquerade.services.masquerade_deny": "records a refusal; changes nothing",
    "access.masquerade.tokens.masquerade_for_token": "a read",
    "plugins.services.settings_with_defaults": "fills in defaults",
    "plugins.services.settings_validate": "a check",
    "plugins.services.plugin_figures_recount": "rewrites derived figures inside the audited "
    "tenant_deletion_execute",
    "plugins.services.plugin_installations_export": "a read",
    "plugins.services.plugin_installations_restore": "writes inside the audited tenant_import",
    "plugins.services.plugin_rows_lock": "takes row locks for tenant_deletion_execute",
    "tenancy.services.tenant_rows_create": "writes inside the audited tenant_provision and "
    "tenant_import",
    "console.tenant_archive.tenant_app_labels": "a read of settings",
    "console.tenant_archive.tenant_models": "a read of the app registry",
    "console.tenant_archive.platform_tenant_migrations": "a read of the migrations on disk",
    "console.tenant_archive.archive_read": "reads and checks an archive",
    "console.tenant_archive.archive_check_migrations": "a check",
    "appointments.services.quota.booking_quota_take": "counts inside the audited booking",
    "apikeys.services.secret_digest": "a hash of a value",
    "apikeys.services.api_key_mark_used": "bookkeeping of a key's last use (at most once a "
    "minute), not a security event",
}


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


@functools.cache
def service_modules() -> list[str]:
    packages = [p for p in ROOT.iterdir() if (p / "__init__.py").exists()]
    paths = [
        path
        for package in packages
        for pattern in ("services.py", "services/*.py")
        for path in package.rglob(pattern)
        if "tests" not in path.parts
    ]
    names = {_module_name(path).removesuffix(".__init__") for path in paths}
    return sorted(names | set(EXTRA_SERVICE_MODULES))


def service_functions() -> dict[str, Callable[..., Any]]:
    found: dict[str, Callable[..., Any]] = {}
    for name in service_modules():
        module = importlib.import_module(name)
        for attr, value in inspect.getmembers(module, inspect.isfunction):
            if not attr.startswith("_") and value.__module__ == name:
                found[f"{name}.{attr}"] = value
    return found


@dataclass
class Recipe:
    call: Callable[[], Any]
    probe: Callable[[], Any]  # changes when the write happens
    event: str
    rows: int = 1
    # What a caller's rollback can undo, when the write reaches beyond the database: Route53
    # cannot be rolled back by a transaction that ends after the service returned (tenancy.domains).
    database_probe: Callable[[], Any] | None = None


@dataclass
class Ctx:
    world: World
    aws: Any
    dns: Any
    superuser: User
    support: User
    rf: RequestFactory = field(default_factory=RequestFactory)

    def uniq(self, prefix: str) -> str:
        return f"{prefix}{uuid.uuid4().hex[:10]}"

    def request(
        self, host: str, user: User | AnonymousUser, *, session: SessionStore | None = None
    ) -> Any:
        request = self.rf.post("/", HTTP_HOST=host)
        request.session = session or SessionStore()
        request.user = user
        # What routing and authentication set on every request.
        request_tenant_set(
            request, platform_tenant() if host == PLATFORM_HOST else self.world.tenant
        )
        request_masquerade_mark(request, None)
        return request


def _png() -> Any:
    buffer = io.BytesIO()
    Image.new("RGB", (3, 3), (10, 20, 30)).save(buffer, format="PNG")
    upload = SimpleUploadedFile("p.png", buffer.getvalue(), content_type="image/png")
    return validated_image(upload)


def _values(model: type[Model], **lookup: Any) -> Callable[[], Any]:
    return lambda: list(model._default_manager.filter(**lookup).values())


RECIPES: dict[str, Callable[[Ctx], Recipe]] = {}


def recipe(name: str) -> Callable[[Callable[[Ctx], Recipe]], Callable[[Ctx], Recipe]]:
    def register(make: Callable[[Ctx], Recipe]) -> Callable[[Ctx], Recipe]:
        RECIPES[name] = make
        return make

    return register


@recipe("users.services.user_create")
def _(c: Ctx) -> Recipe:
    email = f"{c.uniq('new')}@example.com"
    return Recipe(
        lambda: user_services.user_create(
            actor=c.world.owner, email=email, role=Role.TENANT_STAFF, tenant=c.world.tenant
        ),
        _values(User, email=email),
        "user_created",
    )


@recipe("users.services.user_change_role")
def _(c: Ctx) -> Recipe:
    staff = UserFactory.create(role=Role.TENANT_STAFF, tenant=c.world.tenant)
    return Recipe(
        lambda: user_services.user_change_role(
            actor=c.world.owner, user=staff, role=Role.TENANT_MANAGER, tenant=c.world.tenant
        ),
        _values(User, pk=staff.pk),
        "role_changed",
    )


def _staff(c: Ctx, **fields: Any) -> User:
    return UserFactory.create(role=Role.TENANT_STAFF, tenant=c.world.tenant, **fields)


@recipe("users.services.user_update")
def _(c: Ctx) -> Recipe:
    staff = _staff(c)
    return Recipe(
        lambda: user_services.user_update(actor=c.world.owner, user=staff, first_name="Renamed"),
        _values(User, pk=staff.pk),
        "user_updated",
    )


@recipe("users.services.user_deactivate")
def _(c: Ctx) -> Recipe:
    staff = _staff(c)
    return Recipe(
        lambda: user_services.user_deactivate(actor=c.world.owner, user=staff),
        _values(User, pk=staff.pk),
        "user_deactivated",
    )


@recipe("users.services.user_reactivate")
def _(c: Ctx) -> Recipe:
    staff = _staff(c, is_active=False)
    return Recipe(
        lambda: user_services.user_reactivate(actor=c.world.owner, user=staff),
        _values(User, pk=staff.pk),
        "user_reactivated",
    )


@recipe("users.services.user_password_set")
def _(c: Ctx) -> Recipe:
    staff = _staff(c)
    return Recipe(
        lambda: user_services.user_password_set(
            actor=c.world.owner, user=staff, password=NEW_PASSWORD
        ),
        _values(User, pk=staff.pk),
        "password_set",
    )


@recipe("users.services.user_password_change")
def _(c: Ctx) -> Recipe:
    staff = _staff(c)
    return Recipe(
        lambda: user_services.user_password_change(
            request=c.request(HOST_A, staff),
            user=staff,
            old_password=PASSWORD,
            new_password=NEW_PASSWORD,
            reissue_on=c.world.tenant.schema_name,
        ),
        lambda: (_values(User, pk=staff.pk)(), _values(OutstandingToken, user=staff)()),
        "password_changed",
    )


@recipe("users.tokens.token_sign_in")
def _(c: Ctx) -> Recipe:
    staff = _staff(c)
    return Recipe(
        lambda: tokens.token_sign_in(request=c.request(HOST_A, staff), user=staff),
        _values(OutstandingToken, user=staff),
        "login_succeeded",
    )


def _refresh_token(c: Ctx) -> tuple[User, str]:
    staff = _staff(c)
    return staff, tokens.token_pair_issue(user=staff, schema=c.world.tenant.schema_name)["refresh"]


@recipe("users.tokens.token_refresh")
def _(c: Ctx) -> Recipe:
    staff, raw = _refresh_token(c)
    return Recipe(
        lambda: tokens.token_refresh(request=c.request(HOST_A, AnonymousUser()), raw=raw),
        lambda: (
            _values(OutstandingToken, user=staff)(),
            _values(BlacklistedToken, token__user=staff)(),
        ),
        "token_refreshed",
    )


@recipe("users.tokens.token_revoke")
def _(c: Ctx) -> Recipe:
    staff, raw = _refresh_token(c)
    return Recipe(
        lambda: tokens.token_revoke(request=c.request(HOST_A, AnonymousUser()), raw=raw),
        _values(BlacklistedToken, token__user=staff),
        "signed_out",
    )


@recipe("tenancy.services.tenant_provision")
def _(c: Ctx) -> Recipe:
    schema = c.uniq("t")

    def provision() -> Tenant:
        connection.set_schema_to_public()  # tenants are made from the platform, never inside one
        return tenancy_services.tenant_provision(
            name="New", schema_name=schema, domain=f"{schema}.localhost", actor=c.superuser
        )

    return Recipe(
        provision,
        _values(Tenant, schema_name=schema),
        "tenant_created",
    )


def _tenant_due_for_deletion(c: Ctx) -> Tenant:
    schema = c.uniq("t")
    connection.set_schema_to_public()
    tenant = tenancy_services.tenant_provision(
        name="Doomed", schema_name=schema, domain=f"{schema}.localhost"
    )
    Tenant.objects.filter(pk=tenant.pk).update(deletion_due_at=clock.now() - timedelta(days=1))
    return tenant


@recipe("tenancy.services.tenant_deletion_schedule")
def _(c: Ctx) -> Recipe:
    return Recipe(
        lambda: tenancy_services.tenant_deletion_schedule(tenant=c.world.tenant, actor=c.superuser),
        _values(Tenant, pk=c.world.tenant.pk),
        "tenant_deletion_scheduled",
    )


@recipe("tenancy.services.tenant_deletion_cancel")
def _(c: Ctx) -> Recipe:
    tenant = _tenant_due_for_deletion(c)

    def cancel() -> Tenant:
        connection.set_schema_to_public()  # a tenant's row changes from the platform
        return tenancy_services.tenant_deletion_cancel(tenant=tenant, actor=c.superuser)

    return Recipe(
        cancel,
        _values(Tenant, pk=tenant.pk),
        "tenant_deletion_cancelled",
    )


@recipe("console.services.tenant_deletion_execute")
def _(c: Ctx) -> Recipe:
    tenant = _tenant_due_for_deletion(c)
    UserFactory.create(role=Role.TENANT_OWNER, tenant=tenant)

    def execute() -> bool:
        connection.set_schema_to_public()
        return console_services.tenant_deletion_execute(tenant_id=tenant.pk)

    return Recipe(
        execute,
        lambda: (_values(Tenant, pk=tenant.pk)(), _values(User, tenant=tenant)()),
        "tenant_deleted",
    )


@recipe("console.services.platform_user_create")
def _(c: Ctx) -> Recipe:
    email = f"{c.uniq('new')}@example.com"
    return Recipe(
        lambda: console_services.platform_user_create(
            actor=c.superuser,
            email=email,
            role=Role.TENANT_STAFF,
            tenant_schema=c.world.tenant.schema_name,
            password=NEW_PASSWORD,
        ),
        _values(User, email=email),
        "user_created",
    )


def _exported_world(c: Ctx) -> bytes:
    buffer = io.BytesIO()
    connection.set_schema_to_public()
    tenant_archive.tenant_export(tenant=c.world.tenant, destination=buffer)
    return buffer.getvalue()


@recipe("console.tenant_archive.tenant_export")
def _(c: Ctx) -> Recipe:
    def export() -> None:
        connection.set_schema_to_public()
        tenant_archive.tenant_export(
            tenant=c.world.tenant, destination=io.BytesIO(), actor=c.superuser
        )

    return Recipe(export, _values(AuditEvent, action="tenant_exported"), "tenant_exported")


@recipe("console.tenant_archive.tenant_import")
def _(c: Ctx) -> Recipe:
    archive, schema = _exported_world(c), c.uniq("t")

    def import_() -> Tenant:
        connection.set_schema_to_public()
        return tenant_archive.tenant_import(
            source=io.BytesIO(archive), schema_name=schema, domain=f"{schema}.localhost",
            relabel_users=True, actor=c.superuser,
        )  # fmt: skip

    return Recipe(import_, _values(Tenant, schema_name=schema), "tenant_imported")


@recipe("tenancy.services.tenant_update")
def _(c: Ctx) -> Recipe:
    return Recipe(
        lambda: tenancy_services.tenant_update(
            tenant=c.world.tenant, actor=c.superuser, cancellation_window_hours=7
        ),
        _values(Tenant, pk=c.world.tenant.pk),
        "tenant_updated",
    )


@recipe("tenancy.services.tenant_cors_origins_set")
def _(c: Ctx) -> Recipe:
    return Recipe(
        lambda: tenancy_services.tenant_cors_origins_set(
            tenant=c.world.tenant, origins=["https://book.example.org"], actor=c.world.owner
        ),
        _values(Tenant, pk=c.world.tenant.pk),
        "tenant_cors_origins_changed",
    )


@recipe("tenancy.services.tenant_public_booking_set")
def _(c: Ctx) -> Recipe:
    return Recipe(
        lambda: tenancy_services.tenant_public_booking_set(
            tenant=c.world.tenant, enabled=True, actor=c.world.owner
        ),
        _values(Tenant, pk=c.world.tenant.pk),
        "tenant_public_booking_changed",
    )


@recipe("tenancy.services.tenant_logo_set")
def _(c: Ctx) -> Recipe:
    image = _png()
    return Recipe(
        lambda: tenancy_services.tenant_logo_set(
            tenant=c.world.tenant, image=image, actor=c.world.owner
        ),
        _values(Tenant, pk=c.world.tenant.pk),
        "tenant_logo_changed",
    )


@recipe("customers.services.customer_create")
def _(c: Ctx) -> Recipe:
    name = c.uniq("Customer ")
    return Recipe(
        lambda: customer_create(tenant=c.world.tenant, actor=c.world.owner, name=name),
        _values(Customer, name=name),
        "customer_created",
    )


@recipe("customers.services.customer_update")
def _(c: Ctx) -> Recipe:
    customer = c.world.other_customer
    return Recipe(
        lambda: customer_update(
            tenant=c.world.tenant, customer=customer, actor=c.world.owner, notes=c.uniq("n")
        ),
        _values(Customer, pk=customer.pk),
        "customer_updated",
    )


@recipe("customers.services.customer_delete")
def _(c: Ctx) -> Recipe:
    customer = Customer.objects.create(name="Leaving")
    return Recipe(
        lambda: customer_delete(customer=customer, actor=c.world.owner),
        _values(Customer, pk=customer.pk),
        "customer_deleted",
    )


@recipe("customers.services.customer_erase")
def _(c: Ctx) -> Recipe:
    user = UserFactory.create(role=Role.CUSTOMER, tenant=c.world.tenant)
    customer = Customer.objects.create(name="Forget me", user=user, phone="+1 555 0100")
    return Recipe(
        lambda: customer_erase(tenant=c.world.tenant, customer=customer, actor=c.world.owner),
        lambda: (_values(Customer, pk=customer.pk)(), _values(User, pk=user.pk)()),
        "customer_erased",
    )


@recipe("customers.services.customer_personal_data_export")
def _(c: Ctx) -> Recipe:
    customer = c.world.customer
    return Recipe(
        lambda: customer_personal_data_export(customer=customer, actor=c.world.owner),
        _values(AuditEvent, action="customer_data_exported", object_id=str(customer.public_id)),
        "customer_data_exported",
    )


@recipe("customers.services.customer_for_booking_user")
def _(c: Ctx) -> Recipe:
    user = UserFactory.create(role=Role.CUSTOMER, tenant=c.world.tenant)
    return Recipe(
        lambda: customer_for_booking_user(user=user),
        _values(Customer, user_id=user.pk),
        "customer_created",
    )


@recipe("catalog.services.service_create")
def _(c: Ctx) -> Recipe:
    name = c.uniq("Service ")
    return Recipe(
        lambda: service_create(
            actor=c.world.owner, name=name, duration_minutes=30, price=Decimal(20)
        ),
        _values(Service, name=name),
        "service_created",
    )


@recipe("catalog.services.service_update")
def _(c: Ctx) -> Recipe:
    return Recipe(
        lambda: service_update(service=c.world.treatment, actor=c.world.owner, price=Decimal(71)),
        _values(Service, pk=c.world.treatment.pk),
        "service_updated",
    )


@recipe("catalog.services.service_delete")
def _(c: Ctx) -> Recipe:
    service = Service.objects.create(name="Retired", duration_minutes=15, price=Decimal(9))
    return Recipe(
        lambda: service_delete(service=service, actor=c.world.owner),
        _values(Service, pk=service.pk),
        "service_deleted",
    )


@recipe("billing.services.charge_create")
def _(c: Ctx) -> Recipe:
    appointment = c.world.other_appointment
    return Recipe(
        lambda: charge_create(
            appointment=appointment, kind="APPOINTMENT", amount=Decimal(5), actor=c.world.owner
        ),
        _values(Charge, appointment=appointment),
        "charge_created",
    )


@recipe("billing.services.charge_set_status")
def _(c: Ctx) -> Recipe:
    return Recipe(
        lambda: charge_set_status(charge=c.world.charge, status="PAID", actor=c.world.owner),
        _values(Charge, pk=c.world.charge.pk),
        "charge_status_changed",
    )


@recipe("resources.services.resource_create")
def _(c: Ctx) -> Recipe:
    name = c.uniq("Room ")
    return Recipe(
        lambda: resource_create(tenant=c.world.tenant, actor=c.world.owner, name=name, type="ROOM"),
        _values(Resource, name=name),
        "resource_created",
    )


@recipe("resources.services.resource_update")
def _(c: Ctx) -> Recipe:
    return Recipe(
        lambda: resource_update(
            tenant=c.world.tenant, resource=c.world.room, actor=c.world.owner, name=c.uniq("R ")
        ),
        _values(Resource, pk=c.world.room.pk),
        "resource_updated",
    )


@recipe("resources.services.resource_delete")
def _(c: Ctx) -> Recipe:
    resource = Resource.objects.create(name="Spare", type="EQUIPMENT", timezone="UTC")
    return Recipe(
        lambda: resource_delete(resource=resource, actor=c.world.owner),
        _values(Resource, pk=resource.pk),
        "resource_deleted",
    )


@recipe("resources.services.ical_token_rotate")
def _(c: Ctx) -> Recipe:
    return Recipe(
        lambda: ical_token_rotate(resource=c.world.stylist2, actor=c.world.owner),
        _values(Resource, pk=c.world.stylist2.pk),
        "ical_feed_rotated",
    )


@recipe("apikeys.services.api_key_create")
def _(c: Ctx) -> Recipe:
    name = c.uniq("key-")
    return Recipe(
        lambda: api_key_create(
            tenant=c.world.tenant, actor=c.world.owner, name=name, scopes=["customers:read"]
        ),
        _values(APIKey, name=name),
        "api_key_created",
    )


@recipe("apikeys.services.api_key_revoke")
def _(c: Ctx) -> Recipe:
    key = api_key_create(
        tenant=c.world.tenant, actor=c.world.owner, name=c.uniq("key-"), scopes=["customers:read"]
    ).key
    return Recipe(
        lambda: api_key_revoke(key=key, actor=c.world.owner),
        _values(APIKey, pk=key.pk),
        "api_key_revoked",
    )


@recipe("resources.services.ical_token_revoke")
def _(c: Ctx) -> Recipe:
    return Recipe(
        lambda: ical_token_revoke(resource=c.world.stylist, actor=c.world.owner),
        _values(Resource, pk=c.world.stylist.pk),
        "ical_feed_revoked",
    )


@recipe("resources.services.resource_photo_set")
def _(c: Ctx) -> Recipe:
    image = _png()
    return Recipe(
        lambda: resource_photo_set(resource=c.world.room, image=image, actor=c.world.owner),
        _values(Resource, pk=c.world.room.pk),
        "resource_photo_changed",
    )


@recipe("resources.services.date_override_create")
def _(c: Ctx) -> Recipe:
    w = c.world
    day = w.day + timedelta(days=1)
    return Recipe(
        lambda: date_override_create(actor=w.owner, resource=w.room, date=day, is_closed=True),
        _values(DateOverride, resource=w.room, date=day),
        "date_override_created",
    )


@recipe("resources.services.date_override_update")
def _(c: Ctx) -> Recipe:
    w = c.world
    return Recipe(
        lambda: date_override_update(actor=w.owner, override=w.override, note="Inventory"),
        _values(DateOverride, pk=w.override.pk),
        "date_override_updated",
    )


@recipe("resources.services.date_override_delete")
def _(c: Ctx) -> Recipe:
    w = c.world
    override = DateOverride.objects.create(resource=w.room, date=w.day, is_closed=True)
    return Recipe(
        lambda: date_override_delete(actor=w.owner, override=override),
        _values(DateOverride, pk=override.pk),
        "date_override_deleted",
    )


@recipe("appointments.services.blockers.blocker_create")
def _(c: Ctx) -> Recipe:
    w = c.world
    return Recipe(
        lambda: blocker_create(
            tenant=w.tenant,
            actor=w.owner,
            resource=w.stylist2,
            starts_at=w.at(15),
            ends_at=w.at(16),
        ),
        _values(Blocker, resource=w.stylist2),
        "blocker_created",
    )


@recipe("closures.services.closure_create")
def _(c: Ctx) -> Recipe:
    w = c.world
    title = c.uniq("Holiday ")
    return Recipe(
        lambda: closure_create(actor=w.owner, title=title, starts_at=w.at(9), ends_at=w.at(18)),
        _values(Closure, title=title),
        "closure_created",
    )


@recipe("closures.services.closure_update")
def _(c: Ctx) -> Recipe:
    w = c.world
    closure = Closure.objects.create(title="Holiday", starts_at=w.at(9), ends_at=w.at(12))
    return Recipe(
        lambda: closure_update(closure=closure, actor=w.owner, ends_at=w.at(18)),
        _values(Closure, pk=closure.pk),
        "closure_updated",
    )


@recipe("closures.services.closure_delete")
def _(c: Ctx) -> Recipe:
    w = c.world
    closure = Closure.objects.create(title="Holiday", starts_at=w.at(9), ends_at=w.at(12))
    return Recipe(
        lambda: closure_delete(closure=closure, actor=w.owner),
        _values(Closure, pk=closure.pk),
        "closure_deleted",
    )


@recipe("appointments.services.blockers.blocker_update")
def _(c: Ctx) -> Recipe:
    w = c.world
    return Recipe(
        lambda: blocker_update(tenant=w.tenant, actor=w.owner, blocker=w.blocker, title="Paint"),
        _values(Blocker, pk=w.blocker.pk),
        "blocker_updated",
    )


@recipe("appointments.services.blockers.blocker_delete")
def _(c: Ctx) -> Recipe:
    w = c.world
    blocker = Blocker.objects.create(resource=w.room, starts_at=w.at(17), ends_at=w.at(18))
    return Recipe(
        lambda: blocker_delete(tenant=w.tenant, actor=w.owner, blocker=blocker),
        _values(Blocker, pk=blocker.pk),
        "blocker_deleted",
    )


@recipe("appointments.services.booking.appointment_book")
def _(c: Ctx) -> Recipe:
    w = c.world
    return Recipe(
        lambda: appointment_book(
            tenant=w.tenant,
            actor=w.owner,
            service=w.cut,
            customer=w.other_customer,
            starts_at=w.at(9, days=1),
            resources=[w.stylist2],
        ),
        _values(Appointment, customer=w.other_customer),
        "appointment_booked",
    )


@recipe("appointments.services.booking.appointment_book_as_user")
def _(c: Ctx) -> Recipe:
    w = c.world
    return Recipe(
        lambda: appointment_book_as_user(
            tenant=w.tenant,
            actor=w.owner,
            service=w.cut,
            customer=w.other_customer,
            starts_at=w.at(11, days=1),
            resources=[w.stylist2],
        ),
        _values(Appointment, customer=w.other_customer),
        "appointment_booked",
    )


@recipe("appointments.services.booking.customer_booked_for")
def _(c: Ctx) -> Recipe:
    user = UserFactory.create(role=Role.CUSTOMER, tenant=c.world.tenant)
    return Recipe(
        lambda: customer_booked_for(tenant=c.world.tenant, actor=user, named=None),
        _values(Customer, user_id=user.pk),
        "customer_created",
    )


@recipe("appointments.services.booking.appointment_reschedule")
def _(c: Ctx) -> Recipe:
    w = c.world
    return Recipe(
        lambda: appointment_reschedule(
            tenant=w.tenant,
            actor=w.owner,
            appointment=w.other_appointment,
            starts_at=w.at(14, days=2),
        ),
        _values(Appointment, pk=w.other_appointment.pk),
        "appointment_rescheduled",
    )


# Issue 13: each maker books on a day of its own (its writes stay for the next phases).
_ISSUE13_DAYS = itertools.count(3, 2)


def _both_stylists_busy(w: World, start: Any) -> None:
    for customer, stylist in ((w.customer, w.stylist), (w.other_customer, w.stylist2)):
        appointment_book(tenant=w.tenant, actor=w.owner, service=w.cut, customer=customer,
                         starts_at=start, resources=[stylist])  # fmt: skip


def _offered_entry(w: World) -> WaitlistEntry:
    start = w.at(12, days=next(_ISSUE13_DAYS))
    _both_stylists_busy(w, start)
    entry = waitlist_join(tenant=w.tenant, actor=w.owner, service=w.cut, customer=w.customer,
                          starts_at=start)  # fmt: skip
    taken = Appointment.objects.get(starts_at=start, customer=w.other_customer)
    appointment_transition(tenant=w.tenant, actor=w.owner, appointment=taken, to="CANCELLED")
    return entry


def _series(w: World) -> Any:
    return series_book(
        tenant=w.tenant, actor=w.owner, service=w.cut, customer=w.other_customer,
        starts_at=w.at(8, days=next(_ISSUE13_DAYS)), rule="FREQ=DAILY;COUNT=2",
        tz=ZoneInfo(w.tenant.timezone), resources=[w.stylist2],
    ).series  # fmt: skip


@recipe("appointments.services.series.series_book")
def _(c: Ctx) -> Recipe:
    w, day = c.world, next(_ISSUE13_DAYS)
    return Recipe(
        lambda: series_book(
            tenant=w.tenant,
            actor=w.owner,
            service=w.cut,
            customer=w.other_customer,
            starts_at=w.at(9, days=day),
            rule="FREQ=WEEKLY;COUNT=2",
            tz=ZoneInfo(w.tenant.timezone),
            resources=[w.stylist2],
        ),
        _values(AppointmentSeries, first_start=w.at(9, days=day)),
        "appointment_series_booked",
    )


@recipe("appointments.services.series.series_cancel")
def _(c: Ctx) -> Recipe:
    w, series = c.world, _series(c.world)
    occurrences = list(series.occurrences.all())
    return Recipe(
        lambda: series_cancel(
            tenant=w.tenant, actor=w.owner, series=series, appointments=occurrences, scope="all"
        ),
        _values(Appointment, series=series),
        "appointment_series_cancelled",
    )


@recipe("appointments.services.series.series_reschedule")
def _(c: Ctx) -> Recipe:
    w, series = c.world, _series(c.world)
    occurrences = list(series.occurrences.order_by("starts_at"))
    return Recipe(
        lambda: series_reschedule(
            tenant=w.tenant,
            actor=w.owner,
            series=series,
            appointments=occurrences,
            anchor=occurrences[0],
            starts_at=occurrences[0].starts_at + timedelta(hours=2),
            scope="all",
        ),
        _values(Appointment, series=series),
        "appointment_series_rescheduled",
    )


@recipe("appointments.services.waitlist.waitlist_join")
def _(c: Ctx) -> Recipe:
    w, start = c.world, c.world.at(15, days=next(_ISSUE13_DAYS))
    _both_stylists_busy(w, start)
    return Recipe(
        lambda: waitlist_join(
            tenant=w.tenant, actor=w.owner, service=w.cut, customer=w.customer, starts_at=start
        ),
        _values(WaitlistEntry, starts_at=start),
        "waitlist_joined",
    )


@recipe("appointments.services.waitlist.waitlist_leave")
def _(c: Ctx) -> Recipe:
    w, entry = c.world, _offered_entry(c.world)
    return Recipe(
        lambda: waitlist_leave(tenant=w.tenant, actor=w.owner, entry=entry),
        _values(WaitlistEntry, pk=entry.pk),
        "waitlist_left",
    )


@recipe("appointments.services.waitlist.waitlist_claim")
def _(c: Ctx) -> Recipe:
    w, entry = c.world, _offered_entry(c.world)
    token = claim_token(tenant=w.tenant, entry=entry)
    return Recipe(
        lambda: waitlist_claim(tenant=w.tenant, token=token),
        _values(WaitlistEntry, pk=entry.pk),
        "waitlist_claimed",
    )


@recipe("appointments.services.waitlist.waitlist_offers_expire")
def _(c: Ctx) -> Recipe:
    w = c.world
    _offered_entry(w)
    later = timezone.now() + timedelta(days=1)
    return Recipe(
        lambda: waitlist_offers_expire(tenant=w.tenant, now=later),
        _values(WaitlistEntry, status="OFFERED"),
        "waitlist_offers_expired",
    )


@recipe("appointments.services.lifecycle.appointment_transition")
def _(c: Ctx) -> Recipe:
    w = c.world
    return Recipe(
        lambda: appointment_transition(
            tenant=w.tenant, actor=w.owner, appointment=w.other_appointment, to="CONFIRMED"
        ),
        _values(Appointment, pk=w.other_appointment.pk),
        "appointment_status_changed",
    )


@recipe("appointments.services.lifecycle.appointment_update")
def _(c: Ctx) -> Recipe:
    w = c.world
    return Recipe(
        lambda: appointment_update(
            tenant=w.tenant,
            appointment=w.appointment,
            actor=w.owner,
            notes=c.uniq("n"),
            price=Decimal("12.50"),
        ),
        _values(Appointment, pk=w.appointment.pk),
        "appointment_updated",
    )


@recipe("appointments.services.slot_holds.slot_hold_create")
def _(c: Ctx) -> Recipe:
    w = c.world
    return Recipe(
        lambda: slot_holds.slot_hold_create(
            tenant=w.tenant, service=w.treatment, starts_at=w.at(15, days=1)
        ),
        _values(Allocation, hold__isnull=False),
        "slot_hold_created",
    )


@recipe("appointments.services.guest.guest_book")
def _(c: Ctx) -> Recipe:
    w = c.world  # the e-mail of an existing customer: matched, not created
    return Recipe(
        lambda: guest.guest_book(
            tenant=w.tenant,
            service=w.cut,
            starts_at=w.at(9, days=1),
            name="Guest",
            email=w.customer.email,
        ),
        _values(Appointment, customer=w.customer),
        "appointment_booked",
    )


def _guest_visit(c: Ctx) -> Appointment:
    """An open appointment of its own for each recipe run (no resources held yet)."""
    w = c.world
    day = 3 + Appointment.objects.filter(customer=w.other_customer).count()
    return Appointment.objects.create(
        customer=w.other_customer, service=w.cut, starts_at=w.at(8, days=day),
        ends_at=w.at(9, days=day), price=Decimal(40), status="CONFIRMED",
    )  # fmt: skip


@recipe("appointments.services.guest.guest_cancel")
def _(c: Ctx) -> Recipe:
    visit = _guest_visit(c)
    token = manage_token(tenant=c.world.tenant, appointment=visit, purpose="cancel")
    return Recipe(
        lambda: guest.guest_cancel(tenant=c.world.tenant, token=token),
        _values(Appointment, pk=visit.pk),
        "appointment_status_changed",
    )


@recipe("appointments.services.guest.guest_reschedule")
def _(c: Ctx) -> Recipe:
    w = c.world
    visit = _guest_visit(c)
    token = manage_token(tenant=w.tenant, appointment=visit, purpose="reschedule")
    return Recipe(
        lambda: guest.guest_reschedule(
            tenant=w.tenant, token=token, starts_at=visit.starts_at + timedelta(hours=5)
        ),
        _values(Appointment, pk=visit.pk),
        "appointment_rescheduled",
    )


@recipe("access.grants.grant_create")
def _(c: Ctx) -> Recipe:
    return Recipe(
        lambda: grants.grant_create(
            grantor=c.superuser, grantee=c.support, action="view_billing", reason="ticket 1"
        ),
        _values(PermissionGrant, grantee=c.support),
        "grant_created",
    )


@recipe("access.grants.grants_revoke")
def _(c: Ctx) -> Recipe:
    grant = grants.grant_create(
        grantor=c.superuser, grantee=c.support, action="manage_billing", reason="ticket 2"
    )
    return Recipe(
        lambda: grants.grants_revoke(
            grants=PermissionGrant.objects.filter(pk=grant.pk), revoked_by=c.superuser
        ),
        _values(PermissionGrant, pk=grant.pk),
        "grant_revoked",
    )


def _domain_recipe(c: Ctx, call: Callable[[], Any], name: str, event: str) -> Recipe:
    rows = _values(Domain, domain=name)

    def probe() -> Any:
        return rows(), route53.record_sets_named(zone_id=c.aws.zone_id, name=name)

    return Recipe(call, probe, event, database_probe=rows)


@recipe("tenancy.domains.custom_domain_add")
def _(c: Ctx) -> Recipe:
    name = f"{c.uniq('book')}.{c.aws.zone_name}"
    return _domain_recipe(
        c,
        lambda: domains.custom_domain_add(tenant=c.world.tenant, domain=name, actor=c.world.owner),
        name,
        "custom_domain_added",
    )


def _added_domain(c: Ctx) -> Domain:
    name = f"{c.uniq('shop')}.{c.aws.zone_name}"
    domain = domains.custom_domain_add(tenant=c.world.tenant, domain=name, actor=c.world.owner)
    for record in domains.records_to_publish(domain):
        c.dns.publish(record["name"], record["type"], record["value"])
    return domain


@recipe("tenancy.domains.custom_domain_verify")
def _(c: Ctx) -> Recipe:
    domain = _added_domain(c)
    return Recipe(
        lambda: domains.custom_domain_verify(domain=domain, actor=c.world.owner),
        _values(Domain, pk=domain.pk),
        "custom_domain_verified",
    )


@recipe("tenancy.domains.custom_domain_verify_or_queue")
def _(c: Ctx) -> Recipe:
    domain = _added_domain(c)
    return Recipe(
        lambda: domains.custom_domain_verify_or_queue(domain=domain, actor=c.world.owner),
        _values(Domain, pk=domain.pk),
        "custom_domain_verified",
    )


@recipe("tenancy.domains.custom_domain_verify_in_background")
def _(c: Ctx) -> Recipe:
    domain = _added_domain(c)
    return Recipe(
        lambda: domains.custom_domain_verify_in_background(domain_id=domain.pk),
        _values(Domain, pk=domain.pk),
        "custom_domain_verified",
    )


@recipe("tenancy.domains.custom_domain_record_discard")
def _(c: Ctx) -> Recipe:
    # A record an add created without its row (the CREATE's answer was lost).
    record = route53.CnameRecord(
        name=f"{c.uniq('lost')}.{c.aws.zone_name}",
        target=domains.cname_target(),
        ttl=settings.CUSTOM_DOMAIN_RECORD_TTL,
    )
    route53.cname_create(zone_id=c.aws.zone_id, record=record)
    return Recipe(
        lambda: domains.custom_domain_record_discard(zone_id=c.aws.zone_id, record=record),
        lambda: route53.record_sets_named(zone_id=c.aws.zone_id, name=record.name),
        "custom_domain_orphan_record_discarded",
        database_probe=_values(Domain, domain=record.name),
    )


@recipe("tenancy.domains.custom_domain_remove")
def _(c: Ctx) -> Recipe:
    domain = _added_domain(c)
    return _domain_recipe(
        c,
        lambda: domains.custom_domain_remove(domain=domain, actor=c.world.owner),
        domain.domain,
        "custom_domain_removed",
    )


@recipe("tenancy.domains.custom_domains_verify_all")
def _(c: Ctx) -> Recipe:
    # Just one custom domain, whose record is in place: one event per domain it verifies.
    Domain.objects.filter(is_custom_domain=True).delete()
    _added_domain(c)
    return Recipe(
        domains.custom_domains_verify_all,
        _values(Domain, is_custom_domain=True),
        "custom_domain_verified",
    )


def _masquerades() -> Callable[[], Any]:
    return lambda: list(MasqueradeSession.objects.values())


@recipe("access.masquerade.sessions.masquerade_session_start")
def _(c: Ctx) -> Recipe:
    w = c.world
    return Recipe(
        lambda: masquerade_sessions.masquerade_session_start(
            request=c.request(HOST_A, w.owner),
            hijacker=w.owner,
            hijacked=w.staff,
            justification="help",
            return_url="/",
        ),
        _masquerades(),
        "HIJACK_START",
    )


@recipe("access.masquerade.sessions.masquerade_acquire")
def _(c: Ctx) -> Recipe:
    w = c.world
    return Recipe(
        lambda: masquerade_sessions.masquerade_acquire(
            request=c.request(HOST_A, w.owner),
            hijacker=w.owner,
            hijacked=w.staff,
            justification="help",
            return_url="/",
        ),
        _masquerades(),
        "HIJACK_START",
    )


@recipe("access.masquerade.sessions.masquerade_handoff_issue")
def _(c: Ctx) -> Recipe:
    return Recipe(
        lambda: masquerade_sessions.masquerade_handoff_issue(
            request=c.request(PLATFORM_HOST, c.support),
            hijacker=c.support,
            hijacked=c.world.owner,
            justification="ticket",
            return_url="/admin/",
        ),
        _masquerades(),
        "masquerade_handoff_issued",
    )


@recipe("access.masquerade.sessions.masquerade_handoff_redeem")
def _(c: Ctx) -> Recipe:
    _, ticket = masquerade_sessions.masquerade_handoff_issue(
        request=c.request(PLATFORM_HOST, c.support), hijacker=c.support,
        hijacked=c.world.owner, justification="ticket", return_url="/admin/",
    )  # fmt: skip
    return Recipe(
        lambda: masquerade_sessions.masquerade_handoff_redeem(
            request=c.request(HOST_A, AnonymousUser()), ticket=ticket
        ),
        _masquerades(),
        "HIJACK_START",
    )


def _token_masquerade(c: Ctx) -> MasqueradeSession:
    record, _, _ = masquerade_tokens.masquerade_token_start(
        request=c.request(PLATFORM_HOST, c.support), hijacker=c.support,
        target_id=str(c.world.owner.public_id), justification="ticket",
    )  # fmt: skip
    return record


@recipe("access.masquerade.tokens.masquerade_token_start")
def _(c: Ctx) -> Recipe:
    return Recipe(lambda: _token_masquerade(c), _masquerades(), "HIJACK_START")


@recipe("access.masquerade.services.masquerade_end")
def _(c: Ctx) -> Recipe:
    record = _token_masquerade(c)
    return Recipe(
        lambda: masquerade.masquerade_end(
            request=c.request(HOST_A, c.world.owner), record=record, end_reason="done"
        ),
        _values(MasqueradeSession, pk=record.pk),
        "HIJACK_END",
    )


@recipe("access.masquerade.sessions.masquerade_session_release")
def _(c: Ctx) -> Recipe:
    w = c.world
    request = c.request(HOST_A, w.owner)
    record = masquerade_sessions.masquerade_session_start(
        request=request, hijacker=w.owner, hijacked=w.staff, justification="", return_url="/"
    )
    return Recipe(
        lambda: masquerade_sessions.masquerade_session_release(
            request=request, record=record, end_reason="released"
        ),
        _values(MasqueradeSession, pk=record.pk),
        "HIJACK_END",
    )


def _installed(c: Ctx, slug: str) -> PluginInstallation:
    """``slug`` installed for the world's tenant (an earlier recipe may have installed it)."""
    tenant = c.world.tenant
    found = PluginInstallation.objects.filter(tenant=tenant, plugin__slug=slug).first()
    return found or install(tenant, slug, actor=c.world.owner)


@recipe("plugins.services.plugin_install")
def _(c: Ctx) -> Recipe:
    tenant, plugin = c.world.tenant, PluginTemplate.objects.get(slug="daily-agenda")
    PluginInstallation.objects.filter(tenant=tenant, plugin=plugin).delete()
    consent = [p["code"] for p in plugin.required_permissions]
    return Recipe(
        lambda: plugin_services.plugin_install(
            tenant=tenant, plugin=plugin, actor=c.world.owner, accepted_permissions=consent
        ),
        _values(PluginInstallation, tenant=tenant, plugin=plugin),
        "plugin_installed",
    )


@recipe("plugins.services.plugin_configure")
def _(c: Ctx) -> Recipe:
    installation = _installed(c, "daily-agenda")
    hour = (installation.settings["hour"] + 1) % 24
    return Recipe(
        lambda: plugin_services.plugin_configure(
            installation=installation, actor=c.world.manager, settings={"hour": hour}
        ),
        _values(PluginInstallation, pk=installation.pk),
        "plugin_configured",
    )


@recipe("plugins.services.plugin_uninstall")
def _(c: Ctx) -> Recipe:
    installation = _installed(c, "calendar-feed")
    return Recipe(
        lambda: plugin_services.plugin_uninstall(
            tenant=c.world.tenant, plugin=installation.plugin, actor=c.world.owner
        ),
        _values(PluginInstallation, pk=installation.pk),
        "plugin_uninstalled",
    )


@recipe("plugins.services.plugin_rate")
def _(c: Ctx) -> Recipe:
    tenant, plugin = c.world.tenant, PluginTemplate.objects.get(slug="webhooks")
    return Recipe(
        lambda: plugin_services.plugin_rate(
            tenant=tenant, plugin=plugin, actor=c.world.manager, score=4, comment=c.uniq("c")
        ),
        _values(PluginRating, tenant=tenant, plugin=plugin),
        "plugin_rated",
    )


def _endpoint(c: Ctx) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        url=f"https://93.184.215.14/{c.uniq('hook')}", secret="whsec_" + "A" * 32
    )


@recipe("plugins.data.services.webhook_endpoint_create")
def _(c: Ctx) -> Recipe:
    _installed(c, "webhooks")
    url = f"https://93.184.215.14/{c.uniq('hook')}"
    return Recipe(
        lambda: plugin_data_services.webhook_endpoint_create(
            tenant=c.world.tenant, actor=c.world.manager, url=url
        ),
        _values(WebhookEndpoint, url=url),
        "webhook_endpoint_created",
    )


@recipe("plugins.data.services.webhook_endpoint_update")
def _(c: Ctx) -> Recipe:
    endpoint = _endpoint(c)
    return Recipe(
        lambda: plugin_data_services.webhook_endpoint_update(
            endpoint=endpoint, actor=c.world.manager, description=c.uniq("CRM ")
        ),
        _values(WebhookEndpoint, pk=endpoint.pk),
        "webhook_endpoint_updated",
    )


@recipe("plugins.data.services.webhook_endpoint_rotate_secret")
def _(c: Ctx) -> Recipe:
    endpoint = _endpoint(c)
    return Recipe(
        lambda: plugin_data_services.webhook_endpoint_rotate_secret(
            endpoint=endpoint, actor=c.world.manager
        ),
        _values(WebhookEndpoint, pk=endpoint.pk),
        "webhook_secret_rotated",
    )


@recipe("plugins.data.services.webhook_endpoint_delete")
def _(c: Ctx) -> Recipe:
    endpoint = _endpoint(c)
    return Recipe(
        lambda: plugin_data_services.webhook_endpoint_delete(
            endpoint=endpoint, actor=c.world.manager
        ),
        _values(WebhookEndpoint, pk=endpoint.pk),
        "webhook_endpoint_deleted",
    )


@recipe("plugins.data.services.email_template_save")
def _(c: Ctx) -> Recipe:
    source = TemplateSource(
        subject=c.uniq("See you ") + " {{ appointment.starts_at }}",
        text_body="Hi {{ customer.name }}",
        html_body="<p>Hi {{ customer.name }}</p>",
    )
    return Recipe(
        lambda: plugin_data_services.email_template_save(
            kind="reminder", source=source, actor=c.world.manager
        ),
        _values(EmailTemplate, kind="reminder"),
        "email_template_saved",
    )


@recipe("plugins.data.services.email_template_reset")
def _(c: Ctx) -> Recipe:
    EmailTemplate.objects.update_or_create(
        kind="agenda", defaults={"subject": "Today", "text_body": "t", "html_body": "<p>t</p>"}
    )
    return Recipe(
        lambda: plugin_data_services.email_template_reset(kind="agenda", actor=c.world.manager),
        _values(EmailTemplate, kind="agenda"),
        "email_template_reset",
    )


@recipe("plugins.data.services.customer_preference_set")
def _(c: Ctx) -> Recipe:
    customer = c.world.customer
    return Recipe(
        lambda: plugin_data_services.customer_preference_set(
            customer=customer, actor=c.world.customer_user, timezone_name="Europe/Lisbon"
        ),
        _values(CustomerPreference, customer=customer),
        "customer_preference_set",
    )


@recipe("plugins.data.services.customer_unsubscribe")
def _(c: Ctx) -> Recipe:
    customer = Customer.objects.create(name=c.uniq("Reader "), email="reader@example.com")
    token = link_token(purpose="unsubscribe", tenant=c.world.tenant, value=str(customer.public_id))
    return Recipe(
        lambda: plugin_data_services.customer_unsubscribe(tenant=c.world.tenant, token=token),
        _values(CustomerPreference, customer=customer),
        "customer_unsubscribed",
    )


def _completed_visit(c: Ctx) -> Appointment:
    w = c.world
    return Appointment.objects.create(
        customer=w.other_customer, service=w.cut, starts_at=w.at(8, days=-14),
        ends_at=w.at(9, days=-14), status="COMPLETED", price=Decimal(40),
    )  # fmt: skip


@recipe("plugins.data.services.review_submit")
def _(c: Ctx) -> Recipe:
    _installed(c, "review-requests")
    visit = _completed_visit(c)
    token = link_token(purpose="review", tenant=c.world.tenant, value=str(visit.public_id))
    return Recipe(
        lambda: plugin_data_services.review_submit(tenant=c.world.tenant, token=token, rating=5),
        _values(Review, appointment=visit),
        "review_submitted",
    )


@recipe("plugins.data.services.review_reply")
def _(c: Ctx) -> Recipe:
    visit = _completed_visit(c)
    review = Review.objects.create(
        appointment=visit, service=visit.service, customer=visit.customer, rating=3
    )
    return Recipe(
        lambda: plugin_data_services.review_reply(
            review=review, actor=c.world.manager, reply=c.uniq("Thank you ")
        ),
        _values(Review, pk=review.pk),
        "review_replied",
    )


@recipe("notifications.services.delivery_redeliver")
def _(c: Ctx) -> Recipe:
    _installed(c, "webhooks")  # a delivery of a plugin not installed is not redelivered
    event = OutboxEvent.objects.create(tenant=c.world.tenant, kind="appointment.created")
    delivery = Delivery.objects.create(
        event=event, tenant=c.world.tenant, plugin="webhooks", channel="WEBHOOK",
        recipient=c.uniq("endpoint-"), status="FAILED", attempts=10,
    )  # fmt: skip
    return Recipe(
        lambda: delivery_redeliver(delivery=delivery, actor=c.world.manager),
        _values(Delivery, pk=delivery.pk),
        "delivery_redelivered",
    )


class Rollback(Exception):
    """Raised to roll a block back on purpose."""


@pytest.fixture
def ctx(world_a: World, aws: Any, dns: Any, make_user: Any, local_media: Path) -> Ctx:
    return Ctx(
        world=world_a,
        aws=aws,
        dns=dns,
        superuser=make_user(Role.SUPERUSER),
        support=make_user(Role.PLATFORM_SUPPORT),
    )


def _last_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def _prepare(c: Ctx, name: str) -> Recipe:
    connection.set_tenant(c.world.tenant)
    made = RECIPES[name](c)
    connection.set_tenant(c.world.tenant)
    return made


def _check(c: Ctx, name: str) -> list[str]:
    """Run ``name``'s recipe three ways; return what went wrong."""
    problems = []

    # 1. The write rolls back (after the service returned): no event survives it.
    made = _prepare(c, name)
    probe = made.database_probe or made.probe
    before, mark = probe(), _last_id()
    with suppress(Rollback), transaction.atomic():
        made.call()
        connection.set_tenant(c.world.tenant)
        if AuditEvent.objects.filter(id__gt=mark).count() != made.rows:
            problems.append("inside its transaction, not exactly the expected audit rows")
        raise Rollback
    connection.set_tenant(c.world.tenant)
    if AuditEvent.objects.filter(id__gt=mark).exists():
        problems.append("an audit row survived the rollback of its write")
    if probe() != before:
        problems.append("the write survived its rollback")

    # 2. The audit row cannot be written: the service fails with the database's error (so its
    # transaction rolls back), and nothing it wrote outside the database stays either.
    made = _prepare(c, name)
    before = made.probe()
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "ALTER TABLE public.core_auditevent "
                    "ADD CONSTRAINT audit_refuses_all CHECK (false) NOT VALID"
                )
            made.call()
            raise Rollback  # it went through: undo it, and the constraint with it
    except DatabaseError:
        pass
    except Rollback:
        problems.append("it succeeded although its audit row could not be written")
    except Exception as error:
        problems.append(f"the audit failure surfaced as {type(error).__name__}: {error}")
    connection.set_tenant(c.world.tenant)
    if made.probe() != before:
        problems.append("the write happened without its audit row")

    # 3. The write commits (to the test's transaction): exactly its rows, naming the event, each
    # written inside a transaction the service opened itself (so that called outside any, from
    # a view, its write and its row still commit or fail together).
    made = _prepare(c, name)
    before, mark = made.probe(), _last_id()
    depths: list[int] = []

    def note_depth(sender: type, **kwargs: Any) -> None:
        depths.append(len(connection.savepoint_ids))

    pre_save.connect(note_depth, sender=AuditEvent)
    try:
        with transaction.atomic():
            caller_depth = len(connection.savepoint_ids)
            made.call()
    finally:
        pre_save.disconnect(note_depth, sender=AuditEvent)
    connection.set_tenant(c.world.tenant)
    rows = list(AuditEvent.objects.filter(id__gt=mark).values_list("action", flat=True))
    if rows != [made.event] * made.rows:
        problems.append(f"expected {made.rows} x {made.event}, recorded {rows}")
    if any(depth <= caller_depth for depth in depths):
        problems.append("an audit row was written outside a transaction of the service's own")
    if made.probe() == before:
        problems.append("the recipe did not write anything")
    return problems


def test_every_service_function_has_a_recipe() -> None:
    found = set(service_functions())
    missing = sorted(found - set(RECIPES) - set(NOT_WRITES))
    assert not missing, f"service functions with no audit recipe and no NOT_WRITES entry: {missing}"
    stale = sorted((set(RECIPES) | set(NOT_WRITES)) - found)
    assert not stale, f"recipes for functions that no longer exist: {stale}"


def test_every_service_write_leaves_exactly_one_audit_row_in_its_own_transaction(
    ctx: Ctx,
) -> None:
    problems = {name: issues for name in sorted(RECIPES) if (issues := _check(ctx, name))}
    assert not problems, "\n".join(f"{name}: {'; '.join(p)}" for name, p in problems.items())


def test_the_discovery_sees_the_services_of_every_app() -> None:
    modules = service_modules()
    for expected in (
        "users.services",
        "tenancy.services",
        "console.services",
        "access.masquerade.services",
        "access.masquerade.sessions",
        "access.masquerade.tokens",
        "appointments.services.booking",
        "customers.services",
        "access.grants",
        "tenancy.domains",
        "plugins.services",
        "plugins.data.services",
        "notifications.services",
    ):
        assert expected in modules
    assert len(service_functions()) >= len(RECIPES)
