"""One tenant as one archive: export it (``tenant_export``) and import it as a new tenant
(``tenant_import``); ``manage.py export_tenant`` and ``import_tenant`` call these.

The archive is a gzipped tar of JSON members:

- ``manifest.json``: the format and its version, the source tenant (schema, name, plan, policies),
  the migrations applied in its schema, row counts, and the SHA-256 of every other member. An
  import refuses an archive whose members do not match their checksums (``bad_archive``): this
  catches corruption and careless edits, not a forger, who can rewrite the manifest too; keep
  archives where only operators reach them. An archive made at other migrations than this
  platform's is refused (``archive_migrations_differ``) rather than loaded into tables of another
  shape: migrate the older side first.
- ``data/<app>.<model>.json``: every row of every tenant table (Django's JSON serializer, primary
  keys included), in dependency order. Ids and public ids stay what they were, in the new schema.
- ``users.json``: the tenant's own accounts (public schema), never another tenant's nor the
  platform's. Password hashes are included: the archive already holds everything the business
  knows about its customers and must be guarded as such, and without them moving a business to
  another deployment would lock every one of its people and customers out. Rows that point at a
  user are re-pointed at the imported accounts; links to platform staff (who are not exported)
  become empty.
- ``media.json``: the media manifest (storage key, size, SHA-256 of each stored file: resource
  photos, the logo); the files themselves stay in the source's storage.
- ``plugins.json``: the tenant's plugin installations (plugin, settings, enabled, the permissions
  consented to). The import installs those this platform has (their work, e.g. reminders of
  upcoming appointments, starts as on an install) and records the others as not available.

The import creates the tenant through the provisioning service (``core.services``) and loads
everything in one transaction: it all appears, or nothing does.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from typing import IO, Any

from django.apps import apps
from django.conf import settings
from django.core import serializers
from django.core.files.storage import default_storage
from django.core.management.color import no_style
from django.core.serializers.base import DeserializationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.models.functions import Lower
from django.utils import timezone
from django_tenants.utils import tenant_context
from psycopg import IsolationLevel

from core.audit import security_event
from core.exceptions import Conflict, DomainError
from plugins.services import plugin_installations_export, plugin_installations_restore
from tenancy.models import Tenant
from tenancy.provisioning import migrations_fingerprint
from tenancy.services import tenant_rows_create
from users.models import User

FORMAT = "smoothschedule-tenant"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
USERS = "users.json"
MEDIA = "media.json"
PLUGINS = "plugins.json"
DATA_PREFIX = "data/"
INSERT_BATCH = 1000
USER_FIELDS = (
    "public_id", "email", "first_name", "last_name", "role", "is_temporary", "is_active",
    "date_joined", "last_login", "password",
)  # fmt: skip


class ExactJSONEncoder(DjangoJSONEncoder):
    """Django's encoder, but times keep their microseconds (Django's rounds to milliseconds)."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime.datetime | datetime.time):
            text = o.isoformat()
            return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text
        return super().default(o)


class BadArchive(DomainError):
    default_code = "bad_archive"


class ArchiveMigrationsDiffer(DomainError):
    default_code = "archive_migrations_differ"


def tenant_app_labels() -> list[str]:
    """The apps whose tables live only in tenant schemas (content types are the platform's)."""
    return [
        apps.get_app_config(name.rsplit(".", 1)[-1]).label
        for name in settings.TENANT_APPS
        if name not in settings.SHARED_APPS
    ]


def tenant_models() -> list[type[models.Model]]:
    """Every tenant table's model, many-to-many tables included, referenced before referencing."""
    app_list = [
        (config, list(config.get_models(include_auto_created=True)))
        for config in (apps.get_app_config(label) for label in tenant_app_labels())
    ]
    return serializers.sort_dependencies(app_list, allow_cycles=True)


def _member_name(model: type[models.Model]) -> str:
    return f"{DATA_PREFIX}{model._meta.label_lower}.json"


def _user_links(model: type[models.Model]) -> list[models.Field]:
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    return [
        f for f in model._meta.concrete_fields if f.is_relation and f.related_model is user_model
    ]


def _applied_migrations() -> list[str]:
    """The tenant apps' migrations applied in the connection's current schema."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations")
        labels = set(tenant_app_labels()) | {"contenttypes"}
        return sorted(f"{app}.{name}" for app, name in cursor.fetchall() if app in labels)


def platform_tenant_migrations() -> list[str]:
    """The tenant apps' migrations on disk here: what every new tenant schema is migrated to."""
    labels = set(tenant_app_labels()) | {"contenttypes"}
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return sorted(f"{app}.{name}" for app, name in loader.disk_migrations if app in labels)


def _media_manifest(tenant: Tenant) -> list[dict[str, Any]]:
    entries = []
    stored: list[tuple[str, str]] = []
    if tenant.logo and tenant.logo.name:
        stored.append(("core.tenant.logo", tenant.logo.name))
    for model in tenant_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, models.FileField):
                names = model._base_manager.exclude(**{field.name: ""}).values_list(
                    field.name, flat=True
                )
                stored += [(f"{model._meta.label_lower}.{field.name}", n) for n in names]
    for label, name in stored:
        entry: dict[str, Any] = {"field": label, "key": name}
        try:
            digest = hashlib.sha256()
            with default_storage.open(name, "rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 16), b""):
                    digest.update(chunk)
            entry |= {"size": default_storage.size(name), "sha256": digest.hexdigest()}
        except OSError:
            entry["missing"] = True
        entries.append(entry)
    return entries


def _add_member(archive: tarfile.TarFile, name: str, data: bytes, checksums: dict) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(timezone.now().timestamp())
    archive.addfile(info, io.BytesIO(data))
    checksums[name] = hashlib.sha256(data).hexdigest()


def _json(value: Any) -> bytes:
    return json.dumps(value, cls=ExactJSONEncoder, indent=1).encode()


def tenant_export(
    *, tenant: Tenant, destination: IO[bytes], actor: User | None = None
) -> dict[str, Any]:
    """Write ``tenant``'s archive (see the module's docstring) to ``destination``; returns its
    manifest. The rows are read in one repeatable-read transaction, so the archive is one
    consistent moment of the tenant even while it keeps working. Audited (``tenant_exported``)."""
    connection.ensure_connection()
    raw = connection.connection
    snapshot = not connection.in_atomic_block
    if snapshot:  # the transaction opened below then begins as REPEATABLE READ
        raw.isolation_level = IsolationLevel.REPEATABLE_READ
    try:
        with transaction.atomic():
            manifest = _export_rows(tenant, destination, User)
            security_event(
                "tenant_exported",
                actor=actor,
                subject=tenant,
                tenant=tenant,
                tenant_schema=tenant.schema_name,
                rows=manifest["counts"],
                users=len(manifest["users"]),
            )
    finally:
        if snapshot:
            raw.isolation_level = None
    return manifest


def _export_rows(tenant: Tenant, destination: IO[bytes], user_model: type[User]) -> dict[str, Any]:
    checksums: dict[str, str] = {}
    counts: dict[str, int] = {}
    users = list(user_model.objects.filter(tenant=tenant).order_by("pk").values("pk", *USER_FIELDS))
    with tarfile.open(fileobj=destination, mode="w:gz") as archive:
        with tenant_context(tenant):
            applied = _applied_migrations()
            for model in tenant_models():
                fields = [f.name for f in model._meta.concrete_fields if not f.primary_key]
                rows = model._base_manager.order_by("pk")
                counts[model._meta.label_lower] = rows.count()
                text = serializers.serialize(
                    "json", rows.iterator(), fields=fields, cls=ExactJSONEncoder
                )
                _add_member(archive, _member_name(model), text.encode(), checksums)
            media = _media_manifest(tenant)
        _add_member(archive, USERS, _json(users), checksums)
        _add_member(archive, MEDIA, _json(media), checksums)
        _add_member(archive, PLUGINS, _json(plugin_installations_export(tenant=tenant)), checksums)
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "exported_at": timezone.now(),
            "source": {
                "schema_name": tenant.schema_name,
                "public_id": str(tenant.public_id),
                "name": tenant.name,
                "subscription_tier": tenant.subscription_tier,
                "status": tenant.status,
                "timezone": tenant.timezone,
                "cancellation_window_hours": tenant.cancellation_window_hours,
                "late_cancellation_fee_percent": str(tenant.late_cancellation_fee_percent),
            },
            "migrations": applied,
            "migrations_fingerprint": migrations_fingerprint(),
            "counts": counts,
            "users": [user["email"] for user in users],
            "media_files": len(media),
            "members": checksums,
        }
        _add_member(archive, MANIFEST, _json(manifest), {})
    return manifest


@dataclass
class ArchiveContents:
    manifest: dict[str, Any]
    members: dict[str, bytes]

    def json(self, name: str) -> Any:
        try:
            return json.loads(self.members[name])
        except (KeyError, ValueError) as error:
            raise BadArchive(f"The archive's {name} is missing or not JSON.") from error


def archive_read(source: IO[bytes]) -> ArchiveContents:
    """Read and check an archive: its format, its version and every member's checksum. Members
    are read into memory, never extracted to disk (no path in an archive is ever trusted)."""
    members: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=source, mode="r:gz") as archive:
            for member in archive:
                if not member.isfile():
                    raise BadArchive(f"The archive holds a non-file member '{member.name}'.")
                handle = archive.extractfile(member)
                members[member.name] = handle.read() if handle is not None else b""
    except (tarfile.TarError, OSError, EOFError) as error:
        raise BadArchive(f"Not a readable tenant archive (gzipped tar): {error}") from error
    contents = ArchiveContents(manifest={}, members=members)
    manifest = contents.json(MANIFEST)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BadArchive("Not a Smooth Schedule tenant archive (its manifest names no format).")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BadArchive(
            f"Archive format version {manifest.get('format_version')!r} is not supported here "
            f"(this platform reads version {FORMAT_VERSION})."
        )
    expected = manifest.get("members") or {}
    actual = {name for name in members if name != MANIFEST}
    if set(expected) != actual:
        missing, unexpected = sorted(set(expected) - actual), sorted(actual - set(expected))
        raise BadArchive(
            "The archive's members are not those its manifest lists: "
            f"missing {missing}, unexpected {unexpected}."
        )
    for name, digest in expected.items():
        if hashlib.sha256(members[name]).hexdigest() != digest:
            raise BadArchive(f"The archive's member '{name}' does not match its checksum.")
    contents.manifest = manifest
    return contents


def archive_check_migrations(manifest: dict[str, Any]) -> None:
    source = set(manifest.get("migrations") or [])
    here = set(platform_tenant_migrations())
    if source != here:
        only_source = sorted(source - here)
        only_here = sorted(here - source)
        raise ArchiveMigrationsDiffer(
            "The archive was made at other migrations than this platform's: "
            f"applied there only: {only_source or 'none'}; here only: {only_here or 'none'}. "
            "Bring both to the same code (migrate the older one) and export again.",
        )


def _relabelled(email: str, schema_name: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local}+{schema_name}@{domain}"


def _users_create(rows: list[dict[str, Any]], *, tenant: Tenant, relabel: bool) -> dict[int, int]:
    """Create the archive's accounts in ``tenant``; returns old id -> new id."""
    if relabel:
        for row in rows:
            row["email"] = _relabelled(row["email"], tenant.schema_name)
    wanted = [row["email"].lower() for row in rows]
    taken = sorted(
        User.objects.annotate(lower_email=Lower("email"))
        .filter(lower_email__in=wanted)
        .values_list("email", flat=True)
    )
    if taken:
        raise Conflict(
            f"{len(taken)} account e-mail(s) of the archive are taken on this platform "
            f"(e.g. {taken[0]}). Import on another platform, or relabel the accounts "
            "(import_tenant --relabel-users: local+<schema>@domain, no usable password).",
            code="archive_users_conflict",
        )
    mapping = {}
    for row in rows:
        old_id = row.pop("pk")
        fields = {field: row[field] for field in USER_FIELDS}
        if relabel:
            del fields["public_id"]  # a new account of this platform, not the original
        user = User(tenant=tenant, **fields)
        if relabel:
            user.set_unusable_password()  # a copy never opens with the original's passwords
        user.save()
        mapping[old_id] = user.pk
    return mapping


def _rows_insert(contents: ArchiveContents, user_ids: dict[int, int]) -> dict[str, int]:
    counts = {}
    for model in tenant_models():
        name = _member_name(model)
        if name not in contents.members:
            raise BadArchive(f"The archive has no rows for {model._meta.label}.")
        try:
            objects = [d.object for d in serializers.deserialize("json", contents.members[name])]
        except DeserializationError as error:
            raise BadArchive(f"The archive's {name} cannot be read: {error}") from error
        links = _user_links(model)
        for obj in objects:
            if type(obj) is not model:
                raise BadArchive(f"The archive's {name} holds rows of another table.")
            for field in links:
                setattr(obj, field.attname, user_ids.get(getattr(obj, field.attname)))
        fields = list(model._meta.concrete_fields)
        for start in range(0, len(objects), INSERT_BATCH):
            # raw: the values as exported, auto_now and defaults untouched.
            model._base_manager._insert(  # type: ignore[attr-defined]  # private, not in the stubs
                objects[start : start + INSERT_BATCH], fields, raw=True
            )
        counts[model._meta.label_lower] = len(objects)
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), tenant_models()):
            cursor.execute(statement)
    return counts


def tenant_import(
    *,
    source: IO[bytes],
    schema_name: str,
    domain: str,
    name: str | None = None,
    relabel_users: bool = False,
    actor: User | None = None,
) -> Tenant:
    """Create a new tenant (schema ``schema_name``, primary ``domain``) holding everything in the
    archive read from ``source``, all in one transaction, audited (``tenant_imported``).

    Refused before anything is written: an unreadable or altered archive (``bad_archive``), one
    made at other migrations (``archive_migrations_differ``), accounts whose e-mails are taken
    here (``archive_users_conflict``, unless ``relabel_users``)."""
    contents = archive_read(source)
    manifest = contents.manifest
    archive_check_migrations(manifest)
    origin = manifest["source"]
    users = contents.json(USERS)
    with transaction.atomic():
        tenant = tenant_rows_create(
            name=name or origin["name"],
            schema_name=schema_name,
            domain=domain,
            subscription_tier=origin["subscription_tier"],
            status=origin["status"],
            timezone=origin["timezone"],
            cancellation_window_hours=origin["cancellation_window_hours"],
            late_cancellation_fee_percent=origin["late_cancellation_fee_percent"],
        )
        user_ids = _users_create(users, tenant=tenant, relabel=relabel_users)
        with tenant_context(tenant):
            counts = _rows_insert(contents, user_ids)
        unknown_plugins = plugin_installations_restore(
            tenant=tenant, installations=contents.json(PLUGINS)
        )
        security_event(
            "tenant_imported",
            actor=actor,
            subject=tenant,
            tenant=tenant,
            tenant_schema=tenant.schema_name,
            source_schema=origin["schema_name"],
            source_public_id=origin["public_id"],
            exported_at=manifest.get("exported_at"),
            rows=counts,
            users=len(user_ids),
            users_relabelled=relabel_users,
            plugins_not_available=unknown_plugins,
        )
    return tenant
