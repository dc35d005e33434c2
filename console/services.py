"""Platform operations that span every layer: a tenant's final deletion reaches its users, their
grants and masquerades, its plugin installs and its schema at once; the platform API's new users
name their tenant by its schema."""

from __future__ import annotations

import logging
from functools import partial

from django.db import connection, transaction
from django.db.models import Q
from django.http import HttpRequest
from psycopg import sql
from rest_framework.request import Request

from access.models import MasqueradeSession, PermissionGrant
from core import clock
from core.audit import security_event
from core.exceptions import DomainError
from core.storage import tenant_media_delete_all
from plugins.services import plugin_figures_recount, plugin_rows_lock
from tenancy.models import Tenant
from users.models import User
from users.services import user_create

logger = logging.getLogger(__name__)


@transaction.atomic
def tenant_deletion_execute(*, tenant_id: int) -> bool:
    """Delete the tenant ``tenant_id`` if its deletion is due: drop its schema and delete its
    rows on the platform (domains, users, their grants and masquerade sessions, plugin installs,
    outbox rows), all in one transaction with its audit event. False when there is nothing due
    (cancelled meanwhile, or already deleted by another worker: the row lock settles it).

    The audit trail (``core_auditevent``) keeps every event about the tenant and its users: its
    links never constrain, and its schema and e-mail snapshots keep it readable."""
    tenant = (
        Tenant.objects.select_for_update()
        .filter(pk=tenant_id, deletion_due_at__lte=clock.now())
        .first()
    )
    if tenant is None:
        return False
    # The catalogue rows whose figures change. No install can race this: the tenant's hosts,
    # where installs are made, have answered 410 since the deletion was scheduled.
    plugin_ids = plugin_rows_lock(tenant=tenant)
    users = User.objects.filter(tenant=tenant)
    user_ids = list(users.values_list("pk", flat=True))
    PermissionGrant.objects.filter(
        Q(tenant=tenant)
        | Q(grantee_id__in=user_ids)
        | Q(grantor_id__in=user_ids)
        | Q(revoked_by_id__in=user_ids)
    ).delete()
    MasqueradeSession.objects.filter(
        Q(tenant=tenant) | Q(hijacker_id__in=user_ids) | Q(hijacked_id__in=user_ids)
    ).delete()
    security_event(
        "tenant_deleted",
        actor=None,
        subject=tenant,
        tenant=tenant,
        tenant_schema=tenant.schema_name,
        tenant_name=tenant.name,
        deletion_due_at=tenant.deletion_due_at,
        users_deleted=len(user_ids),
    )
    users.delete()
    schema = tenant.schema_name
    tenant.delete()  # domains first (their routes change, tenancy.signals), then the row
    plugin_figures_recount(plugin_ids=plugin_ids)  # its installs and ratings went with it
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
    transaction.on_commit(partial(_tenant_media_purge, schema))
    return True


def _tenant_media_purge(schema: str) -> None:
    """A deleted tenant's files, once its deletion is committed. A failure leaves files behind
    (logged, with the prefix to remove by hand), never the tenant."""
    try:
        count = tenant_media_delete_all(schema)
    except Exception:
        logger.exception(
            "Could not delete the media of deleted tenant '%s' (tenants/%s/)", schema, schema
        )
        return
    logger.info("Deleted %d media files of deleted tenant '%s'", count, schema)


def platform_user_create(
    *,
    actor: User,
    email: str,
    role: str,
    tenant_schema: str | None,
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
    is_temporary: bool = False,
    request: HttpRequest | Request | None = None,
) -> User:
    """Create a user of the tenant whose schema is ``tenant_schema`` (none: a platform account)
    through ``users.services.user_create``, its rules and its audit event. An unknown schema is
    refused on the ``tenant`` field."""
    tenant = None
    if tenant_schema:
        tenant = Tenant.objects.filter(schema_name=tenant_schema).first()
        if tenant is None:
            raise DomainError(
                f"No tenant '{tenant_schema}'.", fields={"tenant": ["Unknown tenant."]}
            )
    return user_create(
        actor=actor,
        email=email,
        role=role,
        tenant=tenant,
        password=password,
        first_name=first_name,
        last_name=last_name,
        is_temporary=is_temporary,
        request=request,
    )
