"""Who sees money: ``view_billing`` (the owner, full-scope platform roles, or a grant) sees every
charge and the revenue summary; ``manage_billing`` changes payment status and the cancellation
policy; a customer (``book_own``) sees its own charges."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework.permissions import BasePermission

from access.permissions import IsInScopeOfThisHost, any_capability_permission, capability_permission
from access.scoping import get_visible, visible_to
from billing.models import Charge
from tenancy.models import Tenant
from users.models import User
from users.roles import Capability

CHARGE_PERMISSIONS: list[type[BasePermission]] = [
    IsInScopeOfThisHost,
    any_capability_permission(Capability.VIEW_BILLING, Capability.BOOK_OWN),
    capability_permission(Capability.MANAGE_BILLING, write_only=True),
]
SUMMARY_PERMISSIONS: list[type[BasePermission]] = [
    IsInScopeOfThisHost,
    capability_permission(Capability.VIEW_BILLING),
]
SETTINGS_PERMISSIONS: list[type[BasePermission]] = [
    IsInScopeOfThisHost,
    capability_permission(Capability.VIEW_BILLING),
    capability_permission(Capability.MANAGE_BILLING, write_only=True),
]


def visible_charges(queryset: QuerySet[Charge], *, user: User, tenant: Tenant) -> QuerySet[Charge]:
    return visible_to(
        queryset, user=user, tenant=tenant, sees_all=Capability.VIEW_BILLING,
        own_user_field="customer__user_id",
    )  # fmt: skip


def charge_get_for(
    queryset: QuerySet[Charge], *, user: User, tenant: Tenant, public_id: Any
) -> Charge:
    visible = visible_charges(queryset, user=user, tenant=tenant)
    return get_visible(visible, public_id=public_id, noun="charge")
