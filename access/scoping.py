"""Which rows of a tenant's table a user sees: the one rule every app's access-checked fetchers
share. Holders of the app's "see everything" capability see all rows; a customer (``book_own``)
sees only the rows that are its own; anyone else sees none."""

from __future__ import annotations

from typing import Any, TypeVar

from django.contrib.auth.models import AnonymousUser
from django.db.models import Model, QuerySet

from access.capabilities import capability_on_host, host_capabilities
from core.exceptions import NotFound
from tenancy.models import Tenant
from users.models import User
from users.roles import Capability

M = TypeVar("M", bound=Model)


def sees_all_rows(*, user: User | AnonymousUser, tenant: Tenant, sees_all: Capability) -> bool:
    """Whether ``user`` sees every row (as the business's people do), not only its own. Those
    who see only their own also see them without the business's internal fields (notes, tags,
    statuses): each app's API gives them its reduced representation."""
    return capability_on_host(user, tenant, sees_all).allowed


def visible_to(
    queryset: QuerySet[M],
    *,
    user: User | AnonymousUser,
    tenant: Tenant,
    sees_all: Capability,
    own_user_field: str,
) -> QuerySet[M]:
    """``queryset`` narrowed to what ``user`` may see on ``tenant``'s host. ``own_user_field``
    is the lookup from a row to the CUSTOMER user it belongs to (e.g. ``customer__user_id``)."""
    held = host_capabilities(user, tenant)  # one reading for both questions
    if held.check(sees_all).allowed:
        return queryset
    if held.check(Capability.BOOK_OWN).allowed:
        return queryset.filter(**{own_user_field: user.pk})
    return queryset.none()


def get_visible(queryset: QuerySet[M], *, public_id: Any, noun: str) -> M:
    """The row with ``public_id`` among ``queryset`` (already narrowed by ``visible_to``), else a
    404 that does not say whether the row exists elsewhere."""
    row = queryset.filter(public_id=public_id).first()
    if row is None:
        raise NotFound(f"No such {noun}.")
    return row
