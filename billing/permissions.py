"""Who sees money: ``view_billing`` (the owner, full-scope platform roles, or a grant) sees every
charge and the revenue summary; ``manage_billing`` changes payment status and the cancellation
policy; a customer (``book_own``) sees its own charges."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from billing.models import Charge
from core.exceptions import NotFound
from users.access import capabilities_on_host
from users.permissions import IsInScopeOfThisHost, any_capability_permission, capability_permission

CHARGE_PERMISSIONS = [
    IsInScopeOfThisHost,
    any_capability_permission("view_billing", "book_own"),
    capability_permission("manage_billing", write_only=True),
]
SUMMARY_PERMISSIONS = [IsInScopeOfThisHost, capability_permission("view_billing")]
SETTINGS_PERMISSIONS = [
    IsInScopeOfThisHost,
    capability_permission("view_billing"),
    capability_permission("manage_billing", write_only=True),
]


def visible_charges(queryset: QuerySet[Charge], *, user: Any, tenant: Any) -> QuerySet[Charge]:
    caps = capabilities_on_host(user, tenant)
    if "view_billing" in caps:
        return queryset
    if "book_own" in caps:
        return queryset.filter(customer__user_id=user.pk)
    return queryset.none()


def charge_get_for(queryset: QuerySet[Charge], *, user: Any, tenant: Any, public_id: Any) -> Charge:
    charge = visible_charges(queryset, user=user, tenant=tenant).filter(public_id=public_id).first()
    if charge is None:
        raise NotFound("No such charge.")
    return charge
