"""Who sees which customers: staff roles with ``view_customers`` all of them (writes need
``manage_customers``); a customer (``book_own``) only itself."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework.permissions import BasePermission

from access.permissions import IsInScopeOfThisHost, any_capability_permission, capability_permission
from access.scoping import get_visible, sees_all_rows, visible_to
from customers.models import Customer
from tenancy.models import Tenant
from users.models import User
from users.roles import Capability

CUSTOMER_PERMISSIONS: list[type[BasePermission]] = [
    IsInScopeOfThisHost,
    any_capability_permission(Capability.VIEW_CUSTOMERS, Capability.BOOK_OWN),
    capability_permission(Capability.MANAGE_CUSTOMERS, write_only=True),
]


def sees_all_customers(*, user: User, tenant: Tenant) -> bool:
    """The business's people see every customer with its internal fields; a customer sees only
    itself, without them."""
    return sees_all_rows(user=user, tenant=tenant, sees_all=Capability.VIEW_CUSTOMERS)


def visible_customers(
    queryset: QuerySet[Customer], *, user: User, tenant: Tenant
) -> QuerySet[Customer]:
    return visible_to(
        queryset,
        user=user,
        tenant=tenant,
        sees_all=Capability.VIEW_CUSTOMERS,
        own_user_field="user_id",
    )


def customer_get_for(
    queryset: QuerySet[Customer], *, user: User, tenant: Tenant, public_id: Any
) -> Customer:
    visible = visible_customers(queryset, user=user, tenant=tenant)
    return get_visible(visible, public_id=public_id, noun="customer")
