"""Reads of users, always within what the asking user may see."""

from __future__ import annotations

from django.db.models import QuerySet

from tenancy.models import Tenant
from tenancy.selectors import is_platform
from users.models import User
from users.roles import Role


def user_list_for_host(*, viewer: User, tenant: Tenant) -> QuerySet[User]:
    """Users visible on this host: a tenant's own users, or on the platform host every user the
    viewer's role reaches (PLATFORM_SALES: demo accounts only; PLATFORM_SUPPORT: tenant users,
    the people it helps, not the platform's own staff)."""
    users = User.objects.select_related("tenant").order_by("email")
    if not is_platform(tenant):
        return users.filter(tenant=tenant)
    if viewer.role == Role.PLATFORM_SALES:
        return users.filter(is_temporary=True)
    if viewer.role == Role.PLATFORM_SUPPORT:
        return users.filter(tenant__isnull=False)
    return users
