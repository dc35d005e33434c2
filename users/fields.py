"""How a tenant table points at a user."""

from django.conf import settings
from django.db import models


def tenant_user_link(
    *, blank: bool = True, help_text: str = "", db_index: bool = True
) -> models.ForeignKey:
    """A nullable link from a tenant-schema table to a user (public schema).

    No database-level foreign key across schemas: it would tie every tenant schema to the
    platform's user table (TRUNCATE, schema cloning). And DO_NOTHING: deleting a user on the
    platform host must not reach into tables that exist only in tenant schemas. Users are
    deactivated rather than deleted; a deleted user's link reads as null.
    """
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=blank,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        help_text=help_text,
        db_index=db_index,
    )
