"""Who may masquerade as whom (SPEC §2.3): the one decision, used by django-hijack
(``HIJACK_PERMISSION_CHECK``), the admin's hijack button, the session views and the API.

| Hijacker         | May masquerade as                                        |
|------------------|----------------------------------------------------------|
| SUPERUSER        | anyone                                                   |
| PLATFORM_SUPPORT | tenant users (owner, manager, staff, customer)           |
| PLATFORM_SALES   | demo accounts: tenant users with ``is_temporary=True``   |
| TENANT_OWNER     | managers and staff of its own tenant                     |
| everyone else    | no one                                                   |

Always: never yourself, never a SUPERUSER unless you are one, never an inactive user, and never
while already masquerading (depth 1).
"""

from __future__ import annotations

import enum

from django.contrib.auth.models import AnonymousUser

from users.models import User
from users.roles import TENANT_ROLES, Role


class Refusal(enum.StrEnum):
    """Why a masquerade is refused; written as the ``reason`` of HIJACK_DENIED lines."""

    NOT_SIGNED_IN = "not_signed_in"
    HIJACKER_INACTIVE = "hijacker_inactive"
    ALREADY_MASQUERADING = "already_masquerading"
    NO_TARGET = "no_such_user"
    TARGET_INACTIVE = "target_inactive"
    SELF = "cannot_masquerade_as_self"
    TARGET_SUPERUSER = "target_is_superuser"
    ROLE_NOT_ALLOWED = "role_may_not_masquerade_as_target"


OWNER_MAY_BECOME = frozenset({Role.TENANT_MANAGER, Role.TENANT_STAFF})


def _matrix_allows(hijacker: User, hijacked: User) -> bool:
    role, target_role = hijacker.role, hijacked.role
    if role == Role.SUPERUSER:
        return True
    if role == Role.PLATFORM_SUPPORT:
        return target_role in TENANT_ROLES
    if role == Role.PLATFORM_SALES:
        return target_role in TENANT_ROLES and hijacked.is_temporary
    if role == Role.TENANT_OWNER:
        return (
            target_role in OWNER_MAY_BECOME
            and hijacker.tenant_id is not None
            and hijacker.tenant_id == hijacked.tenant_id
        )
    return False


def is_masquerading(user: User) -> bool:
    """Whether ``user`` is already someone else's masquerade: a session whose hijack history is
    not empty (django-hijack's ``is_hijacked``) or a request made with a masquerade token."""
    return bool(getattr(user, "is_hijacked", False) or getattr(user, "masquerade", None))


def masquerade_refusal(
    *,
    hijacker: User | AnonymousUser | None,
    hijacked: User | None,
    already_masquerading: bool | None = None,
) -> Refusal | None:
    """None when ``hijacker`` may become ``hijacked`` now, else the reason it may not.

    ``already_masquerading`` is what the caller's session or token says; when not given it is
    read from the hijacker object (django-hijack's middleware marks hijacked sessions).
    """
    if not isinstance(hijacker, User):  # nobody, or the anonymous user
        return Refusal.NOT_SIGNED_IN
    if not hijacker.is_active:
        return Refusal.HIJACKER_INACTIVE
    if already_masquerading is None:
        already_masquerading = is_masquerading(hijacker)
    if already_masquerading:
        return Refusal.ALREADY_MASQUERADING
    if hijacked is None:
        return Refusal.NO_TARGET
    if not hijacked.is_active:
        return Refusal.TARGET_INACTIVE
    if hijacked.pk == hijacker.pk:
        return Refusal.SELF
    if hijacked.role == Role.SUPERUSER and hijacker.role != Role.SUPERUSER:
        return Refusal.TARGET_SUPERUSER
    if not _matrix_allows(hijacker, hijacked):
        return Refusal.ROLE_NOT_ALLOWED
    return None


def may_masquerade(*, hijacker: User | AnonymousUser | None, hijacked: User | None) -> bool:
    """django-hijack's ``HIJACK_PERMISSION_CHECK``: the admin button and hijack's own views."""
    return masquerade_refusal(hijacker=hijacker, hijacked=hijacked) is None
