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
from tenancy.models import Tenant
from tenancy.tiers import tier_limit_check
from users.models import User, role_tenant_error
from users.reach import access_on_host
from users.roles import STAFF_ROLES, Access, may_administer
from users.signals import password_changed
from users.signin import signin_attempt_begin, signin_attempt_failed, signin_attempt_succeeded
from users.tokens import token_pair_issue


def _check_pair(role: str, tenant: Tenant | None) -> None:
    if error := role_tenant_error(role, tenant is not None):
        raise DomainError(error, code="invalid_role_tenant", fields={"tenant": [error]})


def _check_administers(actor: User, role: str, tenant_id: int | None, refusal: str) -> None:
    """Refuse unless ``actor`` may administer accounts with ``role`` in that tenant."""
    allowed = actor.is_active and may_administer(
        actor_role=actor.role, actor_tenant_id=actor.tenant_id, role=role, tenant_id=tenant_id
    )
    if not allowed:
        raise PermissionDenied(refusal)


def _check_manages(actor: User, user: User, *, own_account_too: bool = False) -> None:
    """Refuse unless ``actor`` may change ``user``'s account (its own only where allowed)."""
    if actor.pk == user.pk:
        if own_account_too:
            return
        raise PermissionDenied("You cannot do this to your own account.", code="own_account")
    _check_administers(
        actor, user.role, user.tenant_id, f"Your role cannot change the account of a {user.role}."
    )


def _locked(user: User) -> User:
    return User.objects.select_for_update(of=("self",)).select_related("tenant").get(pk=user.pk)


def _check_staff_room(tenant: Tenant, *, joining: User | None = None) -> None:
    """Refuse when one more staff account (``joining``, or a new one) would pass the tenant's
    tier limit. Callers hold the tenant's row lock (taken before any user's), so concurrent
    additions queue behind each other."""
    staff = User.objects.filter(tenant=tenant, role__in=STAFF_ROLES)
    if joining is not None:
        staff = staff.exclude(pk=joining.pk)
    tier_limit_check(tenant=tenant, kind="staff_users", current=staff.count())


def _locked_tenant(tenant: Tenant) -> Tenant:
    return Tenant.objects.select_for_update().get(pk=tenant.pk)


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
    if actor is not None:
        tenant_id = tenant.pk if tenant is not None else None
        refusal = f"Your role cannot create users with role {role} there."
        _check_administers(actor, role, tenant_id, refusal)
    _check_pair(role, tenant)
    email = User.objects.normalize_email(email).strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise Conflict("A user with this email already exists.", fields={"email": ["Taken."]})
    if tenant is not None and role in STAFF_ROLES:
        tenant = _locked_tenant(tenant)
        _check_staff_room(tenant)
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
    """Give ``user`` another role (and with it, its tenant): only between roles and tenants the
    actor administers, never one's own, within the tier's staff limit."""
    if actor.pk == user.pk:
        raise PermissionDenied("You cannot change your own role.", code="own_account")
    staff_tenant = tenant if role in STAFF_ROLES else None  # the business whose staff it joins
    if staff_tenant is not None:
        tenant = staff_tenant = _locked_tenant(staff_tenant)
    user = _locked(user)
    _check_manages(actor, user)
    tenant_id = tenant.pk if tenant is not None else None
    refusal = f"Your role cannot change a {user.role} into a {role} there."
    _check_administers(actor, role, tenant_id, refusal)
    _check_pair(role, tenant)
    if staff_tenant is not None and not (user.tenant_id == tenant_id and user.role in STAFF_ROLES):
        _check_staff_room(staff_tenant, joining=user)
    previous_role, previous_tenant = user.role, user.tenant
    if (previous_role, previous_tenant) == (role, tenant):
        return user
    user.role, user.tenant = role, tenant
    user.save(update_fields=["role", "tenant", "updated_at"])
    security_event(
        "role_changed",
        request=request,
        actor=actor,
        target=user,
        previous_role=previous_role,
        role=role,
        previous_tenant=getattr(previous_tenant, "schema_name", None),
        tenant_schema=getattr(tenant, "schema_name", None),
    )
    return user


@transaction.atomic
def user_update(
    *,
    actor: User,
    user: User,
    email: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    is_temporary: bool | None = None,
    request: Any = None,
) -> User:
    """Change an account's e-mail, names or demo flag (None: unchanged). Everyone may edit its
    own e-mail and names; anything else needs the right to administer the account."""
    user = _locked(user)
    _check_manages(actor, user, own_account_too=is_temporary is None)
    changes: dict[str, Any] = {}
    if email is not None:
        email = User.objects.normalize_email(email).strip().lower()
        if User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
            raise Conflict("A user with this email already exists.", fields={"email": ["Taken."]})
    for field, value in [
        ("email", email),
        ("first_name", first_name),
        ("last_name", last_name),
        ("is_temporary", is_temporary),
    ]:
        if value is not None and getattr(user, field) != value:
            changes[field] = value
    if not changes:
        return user
    previous_email = user.email
    for field, value in changes.items():
        setattr(user, field, value)
    user.save(update_fields=[*changes, "updated_at"])
    details: dict[str, Any] = {"fields": sorted(changes)}
    if "email" in changes:
        details["previous_email"] = previous_email
    if "is_temporary" in changes:
        details["is_temporary"] = user.is_temporary
    security_event("user_updated", request=request, actor=actor, target=user, **details)
    return user


def _set_active(*, actor: User, user: User, active: bool, event: str, request: Any) -> User:
    user = _locked(user)
    _check_manages(actor, user)
    if user.is_active == active:
        return user
    user.is_active = active
    user.save(update_fields=["is_active", "updated_at"])
    security_event(event, request=request, actor=actor, target=user)
    return user


@transaction.atomic
def user_deactivate(*, actor: User, user: User, request: Any = None) -> User:
    """Switch an account off: its sessions and tokens stop working at their next use. Nobody
    deactivates itself (the platform must never lose its last operator by a slip)."""
    return _set_active(
        actor=actor, user=user, active=False, event="user_deactivated", request=request
    )


@transaction.atomic
def user_reactivate(*, actor: User, user: User, request: Any = None) -> User:
    return _set_active(
        actor=actor, user=user, active=True, event="user_reactivated", request=request
    )


@transaction.atomic
def user_password_set(*, actor: User, user: User, password: str, request: Any = None) -> User:
    """An administrator sets another account's password (its sessions end with the old one).
    One's own password is changed where the current one is asked for, never here."""
    user = _locked(user)
    _check_manages(actor, user)
    _check_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password", "updated_at"])
    security_event("password_set", request=request, actor=actor, target=user)
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
        password_changed.send(sender=User, user=user, request=request)
        security_event("password_changed", request=request, actor=user, target=user)
        return None if reissue_on is None else token_pair_issue(user=user, schema=reissue_on)
