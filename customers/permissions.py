"""Who sees which customers: staff roles with ``view_customers`` all of them (writes need
``manage_customers``); a customer (``book_own``) only itself."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from core.exceptions import NotFound
from customers.models import Customer
from users.access import capabilities_on_host
from users.permissions import IsInScopeOfThisHost, any_capability_permission, capability_permission

CUSTOMER_PERMISSIONS = [
    IsInScopeOfThisHost,
    any_capability_permission("view_customers", "book_own"),
    capability_permission("manage_customers", write_only=True),
]


def visible_customers(queryset: QuerySet[Customer], *, user: Any, tenant: Any) -> QuerySet:
    caps = capabilities_on_host(user, tenant)
    if "view_customers" in caps:
        return queryset
    if "book_own" in caps:
        return queryset.filter(user_id=user.pk)
    return queryset.none()


def customer_get_for(queryset: QuerySet[Customer], *, user: Any, tenant: Any, public_id: Any):
    customer = (
        visible_customers(queryset, user=user, tenant=tenant).filter(public_id=public_id).first()
    )
    if customer is None:
        raise NotFound("No such customer.")
    return customer
