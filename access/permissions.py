from __future__ import annotations

from typing import Any, Protocol, cast

from rest_framework.permissions import SAFE_METHODS, BasePermission

from access.capabilities import HostCapabilities, credential_limit, host_capabilities
from core.audit import security_event
from core.exceptions import PermissionDenied
from tenancy.http import request_tenant
from users.roles import Access, Capability, refusal_message


class MasqueradeRefused(PermissionDenied):
    default_code = "masquerade_action_refused"


class IsInScopeOfThisHost(BasePermission):
    """Default for every API view: signed in, and reaching this host (read-only where the role's
    scope is READ, like PLATFORM_SUPPORT on a tenant host)."""

    message = "Your role does not reach this business."

    def has_permission(self, request: Any, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        access = request_capabilities(request).access  # read once, kept for the capability checks
        allowed = access is Access.FULL or (
            access is Access.READ and request.method in SAFE_METHODS
        )
        if not allowed:
            security_event("permission_denied", request=request, reason="out_of_host_scope")
        return allowed


def masquerade_operator(request: Any) -> Any:
    """The real person behind the request's user while it is being masqueraded, else None."""
    masquerade = getattr(request, "masquerade", None)
    return masquerade.hijacker if masquerade is not None else None


class _Remembers(Protocol):
    host_capabilities: tuple[tuple[object, ...], HostCapabilities]


def request_capabilities(request: Any) -> HostCapabilities:
    """The capabilities of the request's user on this host, read once per request (role, backed
    grants, credential limit, the masquerading operator's) and kept on it; read again only if
    the request's user, operator or credential changes."""
    user = request.user  # authenticates first: a token masquerade is known only after that
    operator = masquerade_operator(request)
    tenant = request_tenant(request)
    key = (
        getattr(user, "pk", None),
        tenant.pk,
        getattr(operator, "pk", None),
        credential_limit(user),
    )
    http = cast(_Remembers, getattr(request, "_request", request))
    remembered = getattr(http, "host_capabilities", None)
    if remembered is None or remembered[0] != key:
        remembered = (key, host_capabilities(user, tenant, operator=operator))
        http.host_capabilities = remembered
    return remembered[1]


def _holds_one_of(request: Any, capabilities: tuple[Capability, ...]) -> bool:
    """Whether the user holds one of ``capabilities`` on this host, checked in order; a grant
    that made the difference is audited as used, a refusal as a denial. A refusal that only the
    masquerade causes is a 403 of its own, recorded under both people's names."""
    held = request_capabilities(request)
    refused_in_masquerade = []
    for capability in capabilities:
        check = held.check(capability)
        if check.grant is not None:
            security_event(
                "grant_used",
                request=request,
                subject=check.grant,
                grant_id=str(check.grant.public_id),
                capability=capability,
                grantor=check.grant.grantor.email,
            )
        if check.allowed:
            return True
        if check.refused_in_masquerade:
            refused_in_masquerade.append(capability)
    if refused_in_masquerade:
        security_event(
            "masquerade_action_refused",
            request=request,
            capability="|".join(refused_in_masquerade),
            operator_email=masquerade_operator(request).email,
        )
        raise MasqueradeRefused(
            "While masquerading you cannot do this: it changes who may sign in, their "
            "credentials or the business's money, and you cannot do it yourself here.",
        )
    security_event(
        "permission_denied",
        request=request,
        reason="missing_capability",
        capability="|".join(capabilities),
    )
    return False


def checks_a_capability(view: Any) -> bool:
    """Whether ``view`` asks for a capability (for some method): only such endpoints take
    credentials narrowed to capabilities, like API keys (``apikeys.authentication``)."""
    return any(getattr(p, "checks_capability", False) for p in view.get_permissions())


def capability_permission(
    capability: Capability, *, write_only: bool = False
) -> type[BasePermission]:
    """A DRF permission requiring ``capability`` on this host (for writes only, if asked). A name
    that is no capability fails here, when the view's module is imported."""
    capability = Capability(capability)

    class HasCapability(BasePermission):
        message = refusal_message(capability)
        checks_capability = True

        def has_permission(self, request: Any, view: Any) -> bool:
            if write_only and request.method in SAFE_METHODS:
                return True
            return _holds_one_of(request, (capability,))

    HasCapability.__name__ = f"Has_{capability}"
    return HasCapability


def any_capability_permission(*capabilities: Capability) -> type[BasePermission]:
    """A DRF permission requiring at least one of ``capabilities`` on this host. Which objects
    each of them reaches is the app's own scope rule (e.g. a customer reaches its own records)."""
    capabilities = tuple(Capability(capability) for capability in capabilities)

    class HasAnyCapability(BasePermission):
        message = refusal_message(*capabilities)
        checks_capability = True

        def has_permission(self, request: Any, view: Any) -> bool:
            return _holds_one_of(request, capabilities)

    HasAnyCapability.__name__ = f"HasAny_{'_'.join(capabilities)}"
    return HasAnyCapability
