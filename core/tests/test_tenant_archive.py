"""Exporting a tenant as an archive and importing it as a new tenant: a populated business comes
back row for row (ids, public ids, links to its accounts) in a schema whose constraints still
hold; an altered, unreadable or mismatched archive is refused and creates nothing."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.db.models import Model
from django_tenants.utils import tenant_context

from appointments.models import Allocation, Appointment, Blocker
from appointments.tests.world import World, build_world
from billing.models import Charge
from catalog.models import Service, ServiceRequirement
from conftest import PASSWORD, connection
from console.tenant_archive import (
    MANIFEST,
    ArchiveMigrationsDiffer,
    BadArchive,
    tenant_export,
    tenant_import,
    tenant_models,
)
from core.exceptions import Conflict
from core.models import AuditEvent
from customers.models import Customer
from resources.models import DateOverride, Resource, WorkingHours
from tenancy.models import Tenant
from tenancy.services import tenant_provision
from users.models import User

pytestmark = pytest.mark.django_db

SAMPLED = [Resource, WorkingHours, DateOverride, Service, ServiceRequirement, Customer,
           Appointment, Blocker, Allocation, Charge]  # fmt: skip


@pytest.fixture
def origin(local_media: Path) -> World:
    tenant = tenant_provision(name="Origin Salon", schema_name="origin", domain="origin.localhost")
    with tenant_context(tenant):
        world = build_world(tenant)
        world.stylist.photo = default_storage.save("photos/ana.png", ContentFile(b"\x89PNG ana"))
        world.stylist.save()
    connection.set_schema_to_public()
    return world


def exported(tenant: Tenant) -> bytes:
    buffer = io.BytesIO()
    tenant_export(tenant=tenant, destination=buffer)
    return buffer.getvalue()


def rows_of(
    tenant: Tenant, model: type[Model], *, without: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    with tenant_context(tenant):
        return [
            {k: v for k, v in row.items() if k not in without}
            for row in model._base_manager.order_by("pk").values()
        ]


def schema_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", [name])
        return cursor.fetchone() is not None


def test_round_trip_brings_back_every_row_with_its_ids_and_links(origin):
    archive = exported(origin.tenant)
    copy = tenant_import(
        source=io.BytesIO(archive), schema_name="copy", domain="copy.localhost", relabel_users=True
    )
    assert copy.name == "Origin Salon"
    for model in tenant_models():
        assert len(rows_of(copy, model)) == len(rows_of(origin.tenant, model)), model
    assert len(rows_of(copy, Allocation)) >= 3
    for model in SAMPLED:
        links = ("user_id", "created_by_id")
        assert rows_of(copy, model, without=links) == rows_of(origin.tenant, model, without=links)

    # Links to accounts point at the imported (relabelled) accounts of the new tenant.
    owner_copy = User.objects.get(email=origin.owner.email.replace("@", "+copy@"))
    assert owner_copy.tenant == copy and owner_copy.role == "TENANT_OWNER"
    assert not owner_copy.has_usable_password()
    with tenant_context(copy):
        appointment = Appointment.objects.get(public_id=origin.appointment.public_id)
        assert appointment.created_by_id == owner_copy.pk
        customer = Customer.objects.get(public_id=origin.customer.public_id)
        assert customer.user.email == origin.customer_user.email.replace("@", "+copy@")
    assert (
        User.objects.filter(tenant=copy).count()
        == User.objects.filter(tenant=origin.tenant).count()
    )
    assert AuditEvent.objects.filter(action="tenant_imported", tenant_schema="copy").exists()


def test_the_imported_schema_still_refuses_double_booking_and_numbers_new_rows_after(origin):
    copy = tenant_import(
        source=io.BytesIO(exported(origin.tenant)),
        schema_name="copy",
        domain="copy.localhost",
        relabel_users=True,
    )
    with tenant_context(copy):
        held = Allocation.objects.filter(is_live=True).first()
        with pytest.raises(IntegrityError), transaction.atomic():
            Allocation.objects.create(
                resource_id=held.resource_id, blocker_id=Blocker.objects.first().pk,
                starts_at=held.starts_at, ends_at=held.ends_at,
            )  # fmt: skip
        newest = Customer.objects.create(name="After the import")
        assert newest.pk > max(row["id"] for row in rows_of(origin.tenant, Customer))


def test_accounts_keep_their_passwords_when_imported_on_another_platform(api, origin):
    archive = exported(origin.tenant)
    # The other platform: none of these accounts exist there.
    for user in User.objects.filter(tenant=origin.tenant):
        user.email = f"elsewhere-{user.pk}@example.net"
        user.public_id = None
        user.public_id = User._meta.get_field("public_id").get_default()
        user.save()
    copy = tenant_import(source=io.BytesIO(archive), schema_name="moved", domain="moved.localhost")
    moved = User.objects.get(tenant=copy, role="TENANT_OWNER")
    assert moved.public_id == origin.owner.public_id
    assert moved.email == origin.owner.email
    signed_in = api("moved.localhost").post(
        "/api/auth/token/", {"email": moved.email, "password": PASSWORD}, format="json"
    )
    assert signed_in.status_code == 200, signed_in.content


def test_accounts_whose_emails_are_taken_are_refused_unless_relabelled(origin):
    archive = exported(origin.tenant)
    with pytest.raises(Conflict) as refused:
        tenant_import(source=io.BytesIO(archive), schema_name="copy", domain="copy.localhost")
    assert refused.value.code == "archive_users_conflict"
    assert not Tenant.objects.filter(schema_name="copy").exists()
    assert not schema_exists("copy")


def test_the_media_manifest_lists_each_stored_file_with_its_size_and_digest(origin):
    with tarfile.open(fileobj=io.BytesIO(exported(origin.tenant)), mode="r:gz") as archive:
        media = json.loads(archive.extractfile("media.json").read())
        users = json.loads(archive.extractfile("users.json").read())
    assert media == [
        {
            "field": "resources.resource.photo",
            "key": origin.stylist.photo.name,
            "size": len(b"\x89PNG ana"),
            "sha256": hashlib.sha256(b"\x89PNG ana").hexdigest(),
        }
    ]
    # The tenant's own accounts only: never another tenant's nor the platform's.
    assert {u["email"] for u in users} == set(
        User.objects.filter(tenant=origin.tenant).values_list("email", flat=True)
    )


def rewritten(archive: bytes, change: Callable[[dict[str, bytes]], None]) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as source:
        members: dict[str, bytes] = {}
        for member in source:
            content = source.extractfile(member)
            assert content is not None, f"{member.name} is not a regular file"
            members[member.name] = content.read()
    change(members)
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as target:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            target.addfile(info, io.BytesIO(data))
    return out.getvalue()


def tamper_rows(members: dict[str, bytes]) -> None:
    members["data/customers.customer.json"] = members["data/customers.customer.json"].replace(
        b"Cara Customer", b"Mallory"
    )


def other_migrations(members: dict[str, bytes]) -> None:
    manifest = json.loads(members[MANIFEST])
    manifest["migrations"].append("appointments.9999_from_the_future")
    members[MANIFEST] = json.dumps(manifest).encode()


def corrupt(members: dict[str, bytes]) -> None:
    members.pop("users.json")


@pytest.mark.parametrize(
    ("change", "error", "code"),
    [
        (tamper_rows, BadArchive, "bad_archive"),
        (corrupt, BadArchive, "bad_archive"),
        (other_migrations, ArchiveMigrationsDiffer, "archive_migrations_differ"),
    ],
)
def test_an_altered_or_mismatched_archive_is_refused_and_creates_nothing(
    origin, change, error, code
):
    archive = rewritten(exported(origin.tenant), change)
    with pytest.raises(error) as refused:
        tenant_import(
            source=io.BytesIO(archive), schema_name="copy", domain="copy.localhost",
            relabel_users=True,
        )  # fmt: skip
    assert refused.value.code == code
    assert not Tenant.objects.filter(schema_name="copy").exists()
    assert not schema_exists("copy")


def test_an_unreadable_file_is_a_bad_archive():
    for junk in (b"", b"not a tarball at all", io.BytesIO(b"\x1f\x8b\x08garbage").getvalue()):
        with pytest.raises(BadArchive):
            tenant_import(source=io.BytesIO(junk), schema_name="copy", domain="copy.localhost")


def test_the_commands_export_and_import(origin, tmp_path):
    path = tmp_path / "origin.tar.gz"
    call_command("export_tenant", "origin", str(path))
    assert path.stat().st_size > 0
    with pytest.raises(CommandError, match="archive_users_conflict"):
        call_command("import_tenant", str(path), "--schema", "copy", "--domain", "copy.localhost")
    call_command(
        "import_tenant", str(path), "--schema", "copy", "--domain", "copy.localhost",
        "--name", "Copy Salon", "--relabel-users",
    )  # fmt: skip
    copy = Tenant.objects.get(schema_name="copy")
    assert copy.name == "Copy Salon"
    assert copy.domains.get().domain == "copy.localhost"
    with pytest.raises(CommandError, match="No tenant"):
        call_command("export_tenant", "nosuch", str(tmp_path / "x.tar.gz"))


def test_plugin_installations_come_back_with_their_settings_and_start_working(origin):
    from notifications.models import DueJob
    from plugins.models import PluginInstallation, PluginTemplate
    from plugins.tests.helpers import install

    install(origin.tenant, "appointment-reminders")
    feed = install(origin.tenant, "calendar-feed")
    feed.enabled = False
    feed.save()
    before = PluginTemplate.objects.get(slug="appointment-reminders").install_count

    copy = tenant_import(
        source=io.BytesIO(exported(origin.tenant)), schema_name="copy", domain="copy.localhost",
        relabel_users=True,
    )  # fmt: skip
    installed = {
        i.plugin.slug: i
        for i in PluginInstallation.objects.filter(tenant=copy).select_related("plugin")
    }
    assert set(installed) == {"appointment-reminders", "calendar-feed"}
    assert not installed["calendar-feed"].enabled
    original = PluginInstallation.objects.get(
        tenant=origin.tenant, plugin__slug="appointment-reminders"
    )
    assert installed["appointment-reminders"].settings == original.settings
    assert PluginTemplate.objects.get(slug="appointment-reminders").install_count == before + 1
    # The reminders of the copy's upcoming appointments are scheduled, as on an install.
    assert DueJob.objects.filter(tenant=copy, plugin="appointment-reminders").count() == (
        DueJob.objects.filter(tenant=origin.tenant, plugin="appointment-reminders").count()
    )
    assert DueJob.objects.filter(tenant=copy).exists()
