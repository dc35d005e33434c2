"""Writes of users. Each is one transaction that also writes its audit line."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from rest_framework.exceptions import AuthenticationFailed

from core.audit import security_event
from core.exceptions import Conflict, DomainError, PermissionDenied
from core.masquerade.services import masquerade_end
from core.models import MasqueradeSession, Tenant
from core.tiers import tier_limit_check
from users.access import access_on_host
from users.models import User, role_tenant_error
from users.roles import STAFF_ROLES, Access, may_assign_role
from users.signin import signin_attempt_begin, signin_attempt_failed, signin_attempt_succeeded
from users.tokens import token_pair_issue


def _check_pair(role: str, tenant: Tenant | None) -> None:
    if error := role_tenant_error(role, tenant is not None):
        raise DomainError(error, code="invalid_role_tenant", fields={"tenant": [error]})


def _check_password(password: str | None, user: User) -> None:
    if password is None:
        return
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise DomainError(error.messages[0], fields={"password": error.messages}) from None


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    email: str,
    role: str,
    tenant: Tenant | None = None,
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
    is_temporary: bool = False,
    request: Any = None,
) -> User:
    """Create a user. ``actor`` None means the system (seed data, management commands)."""
    if actor is not None and not may_assign_role(actor_role=actor.role, target_role=role):
        raise PermissionDenied(f"Your role cannot create users with role {role}.")
    _check_pair(role, tenant)
    email = User.objects.normalize_email(email).strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise Conflict("A user with this email already exists.", fields={"email": ["Taken."]})
    if tenant is not None and role in STAFF_ROLES:
        tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
        staff_count = User.objects.filter(tenant=tenant, role__in=STAFF_ROLES).count()
        tier_limit_check(tenant=tenant, kind="staff_users", current=staff_count)
    user = User(
        email=email,
        role=role,
        tenant=tenant,
        first_name=first_name,
        last_name=last_name,
        is_temporary=is_temporary,
    )
    _check_password(password, user)
    user.set_password(password)
    user.save()
    security_event("user_created", request=request, actor=actor, target=user, role=role)
    return user


@transaction.atomic
def user_change_role(
    *, actor: User, user: User, role: str, tenant: Tenant | None, request: Any = None
) -> User:
    if not may_assign_role(actor_role=actor.role, target_role=role) or not may_assign_role(
        actor_role=actor.role, target_role=user.role
    ):
        raise PermissionDenied(f"Your role cannot change a {user.role} into a {role}.")
    if actor.pk == user.pk:
        raise PermissionDenied("You cannot change your own role.")
    _check_pair(role, tenant)
    previous = user.role
    user.role, user.tenant = role, tenant
    user.save()
    security_event(
        "role_changed", request=request, actor=actor, target=user, previous_role=previous, role=role
    )
    return user


def user_authenticate_on_host(*, request: Any, email: str, password: str) -> User:
    """Check a sign-in on this host, behind the sign-in guard (per-address rate, per-account
    backoff; ``SignInThrottled`` before any password is looked at). Wrong password, unknown email
    and "your account does not belong to this host" get the same answer and count alike, so
    neither the answer nor the lockout tells which accounts exist or which password was right.
    ``request`` is DRF's or Django's (the admin's login form)."""
    http_request = getattr(request, "_request", request)
    attempt = signin_attempt_begin(request=http_request, email=email)
    refused = AuthenticationFailed("No active account with these credentials on this host.")
    user = authenticate(http_request, username=email, password=password)
    if user is None:  # users.signals audits it
        signin_attempt_failed(request=http_request, attempt=attempt)
        raise refused
    if access_on_host(user, http_request.tenant) is Access.NONE:
        security_event(
            "login_failed", request=request, actor=None, email=email.lower(), reason="wrong_host"
        )
        signin_attempt_failed(request=http_request, attempt=attempt)
        raise refused
    signin_attempt_succeeded(attempt=attempt)
    return user


def user_password_change(
    *, request: Any, user: User, old_password: str, new_password: str, reissue_on: str | None
) -> dict[str, str] | None:
    """The signed-in user changes its own password. The old one is checked behind the sign-in
    guard (a stolen access token must not become a password oracle), the new one against
    Django's validators. Changing it ends every other credential: tokens carry a digest of the
    password hash (``CHECK_REVOKE_TOKEN``), sessions the hash itself (Django's session auth
    hash), and the masquerades this user started are ended. A token caller gets a new pair bound
    to ``reissue_on`` (the schema its token named); a session caller keeps its session (the view
    re-keys it). Refused inside a masquerade: the operator does not own this password."""
    if getattr(request, "masquerade", None) is not None:
        raise PermissionDenied(
            "A password cannot be changed while masquerading.", code="masquerade_forbidden"
        )
    attempt = signin_attempt_begin(request=request, email=user.email)
    if not user.check_password(old_password):
        signin_attempt_failed(request=request, attempt=attempt)
        security_event("password_change_refused", request=request, actor=user, target=user)
        raise DomainError(
            "The current password is not correct.",
            code="wrong_password",
            fields={"old_password": ["Not correct."]},
        )
    signin_attempt_succeeded(attempt=attempt)
    try:
        validate_password(new_password, user)
    except ValidationError as error:
        raise DomainError(error.messages[0], fields={"new_password": error.messages}) from None
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password", "updated_at"])
        live = MasqueradeSession.objects.select_related("hijacker", "hijacked").filter(
            hijacker=user, ended_at__isnull=True
        )
        for record in live:
            masquerade_end(request=request, record=record, end_reason="password_changed")
        security_event("password_changed", request=request, actor=user, target=user)
        return None if reissue_on is None else token_pair_issue(user=user, schema=reissue_on)
