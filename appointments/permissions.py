"""Who may see and do what on the schedule: the one place these decisions are made.

- ``manage_schedule`` (owner, manager, full-scope platform roles): everything.
- ``view_schedule`` without ``manage_schedule`` (staff): reads the whole schedule; changes only
  appointments and blockers that hold a resource linked to them.
- ``book_own`` (customers): their own appointments only; they book and cancel.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from rest_framework.permissions import BasePermission

from access.capabilities import capabilities_on_host
from access.permissions import IsInScopeOfThisHost, any_capability_permission, capability_permission
from access.scoping import get_visible, sees_all_rows, visible_to
from appointments.models import Appointment, Blocker
from core.exceptions import PermissionDenied
from resources.models import Resource
from tenancy.models import Tenant
from users.models import User
from users.roles import Capability

STAFF_ACTIONS = frozenset(
    {"update", "reschedule", "move_series", "confirm", "complete", "no_show", "cancel"}
)
# Customers move one appointment of theirs (under the cancellation policy), never a whole series.
CUSTOMER_ACTIONS = frozenset({"cancel", "reschedule"})

# DRF permission stacks of the schedule's endpoints (object scope is decided below).
APPOINTMENT_PERMISSIONS: list[type[BasePermission]] = [
    IsInScopeOfThisHost,
    any_capability_permission(
        Capability.MANAGE_SCHEDULE, Capability.VIEW_SCHEDULE, Capability.BOOK_OWN
    ),
]
BLOCKER_PERMISSIONS: list[type[BasePermission]] = [
    IsInScopeOfThisHost,
    capability_permission(Capability.VIEW_SCHEDULE),
]
AVAILABILITY_PERMISSIONS: list[type[BasePermission]] = [
    IsInScopeOfThisHost,
    any_capability_permission(Capability.VIEW_SCHEDULE, Capability.BOOK_OWN),
]


def _caps(user: User | AnonymousUser | None, tenant: Tenant) -> frozenset[Capability]:
    return frozenset() if user is None else capabilities_on_host(user, tenant)


def sees_whole_schedule(*, user: User | AnonymousUser, tenant: Tenant) -> bool:
    """The business's people see every appointment with its internal notes; a customer sees its
    own, without them."""
    return sees_all_rows(user=user, tenant=tenant, sees_all=Capability.VIEW_SCHEDULE)


def visible_appointments(
    queryset: QuerySet[Appointment], *, user: User | AnonymousUser, tenant: Tenant
) -> QuerySet[Appointment]:
    return visible_to(
        queryset, user=user, tenant=tenant, sees_all=Capability.VIEW_SCHEDULE,
        own_user_field="customer__user_id",
    )  # fmt: skip


def appointment_get_for(
    queryset: QuerySet[Appointment], *, user: User | AnonymousUser, tenant: Tenant, public_id: Any
) -> Appointment:
    """The access-checked fetcher: an appointment the user may see, else 404."""
    visible = visible_appointments(queryset, user=user, tenant=tenant)
    return get_visible(visible, public_id=public_id, noun="appointment")


def _holds_own_resource(appointment: Appointment, user: User) -> bool:
    """Its own allocations, or for a seat of a group session the session's (issue 13)."""
    if appointment.allocations.filter(resource__user_id=user.pk).exists():
        return True
    return seat_session_resources(appointment).filter(user_id=user.pk).exists()


def seat_session_resources(appointment: Appointment) -> QuerySet[Resource]:
    """The resources the group session ``appointment`` is a seat of holds; none when it is not
    a seat."""
    if appointment.session_id is None:
        return Resource.objects.none()
    return Resource.objects.filter(allocations__session_id=appointment.session_id)


def check_appointment_action(
    *, user: User, tenant: Tenant, appointment: Appointment, action: str
) -> None:
    caps = _caps(user, tenant)
    if Capability.MANAGE_SCHEDULE in caps:
        return
    if Capability.VIEW_SCHEDULE in caps and action in STAFF_ACTIONS:
        if _holds_own_resource(appointment, user):
            return
        raise PermissionDenied("Staff change only appointments that hold their own resource.")
    if Capability.BOOK_OWN in caps and action in CUSTOMER_ACTIONS:
        return  # visible_appointments already limited the customer to its own
    raise PermissionDenied(f"You may not {action.replace('_', ' ')} this appointment.")


def check_may_hold(*, user: User | None, tenant: Tenant, resources: Iterable[Resource]) -> None:
    """Staff may book or block only time that holds a resource linked to them. ``user`` None is a
    guest of the public booking page, which let it in (``appointments.services.guest``)."""
    if user is None:
        return
    caps = _caps(user, tenant)
    if Capability.MANAGE_SCHEDULE in caps or Capability.BOOK_OWN in caps:
        return
    if Capability.VIEW_SCHEDULE in caps and any(r.user_id == user.pk for r in resources):
        return
    raise PermissionDenied("Staff book and block only time of their own resource.")


def visible_blockers(
    queryset: QuerySet[Blocker], *, user: User | AnonymousUser, tenant: Tenant
) -> QuerySet[Blocker]:
    """Time off is the business's own: those who see the schedule see all of it; no one else
    (a customer included) sees any."""
    return queryset if sees_whole_schedule(user=user, tenant=tenant) else queryset.none()


def blocker_get_for(
    queryset: QuerySet[Blocker], *, user: User | AnonymousUser, tenant: Tenant, public_id: Any
) -> Blocker:
    """The access-checked fetcher: a blocker the user may see, else 404."""
    visible = visible_blockers(queryset, user=user, tenant=tenant)
    return get_visible(visible, public_id=public_id, noun="blocker")


def books_for_self(*, user: User | AnonymousUser, tenant: Tenant) -> bool:
    """A customer: its bookings are always for its own customer record."""
    caps = _caps(user, tenant)
    return Capability.BOOK_OWN in caps and Capability.VIEW_SCHEDULE not in caps


def check_may_set_price(
    *, user: User | None, tenant: Tenant, price: Decimal | None, unchanged: Decimal
) -> None:
    """The one price rule, for booking and for editing alike: only ``manage_schedule`` (owners,
    managers) sets a price other than ``unchanged`` (the service's on booking, the current one on
    an edit). Staff and customers book at the service's price, so cancelling and booking again
    changes nothing either."""
    if price is None or price == unchanged or Capability.MANAGE_SCHEDULE in _caps(user, tenant):
        return
    raise PermissionDenied(
        "Only owners and managers set a price; leave it out to use the service's price.",
        code="price_not_allowed",
        fields={"price": ["You may not set the price."]},
    )
