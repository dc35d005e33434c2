"""The browser side of masquerading: django-hijack's acquire/release views with our matrix,
audit and host hand-off, and the one tiny page a masquerading operator lands on."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.request import split_domain_port
from django.shortcuts import render
from django.urls import reverse
from django.views import View
from hijack import views as hijack_views

from access.http import request_masquerade
from access.masquerade.sessions import (
    masquerade_acquire,
    masquerade_handoff_redeem,
    masquerade_session_release,
)
from core.api.errors import json_error
from core.exceptions import DomainError
from tenancy.http import request_tenant
from tenancy.selectors import is_platform
from users.http import request_user
from users.models import User


def _error(error: DomainError) -> HttpResponse:
    return json_error(error.status_code, error.code, error.message, **error.fields)


def _absolute(request: HttpRequest, host: str, path: str) -> str:
    """``path`` on ``host``, same scheme and port as this request (dev servers, tests)."""
    _hostname, port = split_domain_port(request.get_host())
    return f"{request.scheme}://{host}{':' + port if port else ''}{path}"


class MasqueradeAcquireView(hijack_views.AcquireUserView):
    """POST ``user_pk``: become that user, where that user works. On the same host the session
    switches at once; for a user of another host the browser is sent there with a one-time
    ticket (cookies do not cross hosts)."""

    raise_exception = True  # an anonymous caller gets 403, not a login page on a headless host

    def get_object(self, queryset: Any = None) -> User | None:
        raw = self.request.POST.get("user_pk", "")
        if not raw.isdigit():
            return None
        return User.objects.select_related("tenant").filter(pk=int(raw)).first()

    def test_func(self) -> bool:
        # The decision and its audit line are made in post(), with the session's own history.
        return True

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if "user_pk" not in request.POST:
            return json_error(400, "invalid", "Say whom to become: user_pk is required.")
        try:
            return super().dispatch(request, *args, **kwargs)
        except DomainError as error:
            return _error(error)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        hijacker = User.objects.select_related("tenant").get(pk=request_user(request).pk)
        record, ticket = masquerade_acquire(
            request=request,
            hijacker=hijacker,
            hijacked=self.get_object(),
            justification=request.POST.get("reason", "").strip()[:500],
            return_url=_return_url(request),
        )
        if ticket is None:
            return HttpResponseRedirect(_landing_path(request))
        target = _absolute(request, record.handoff_host, f"/masquerade/enter/?ticket={ticket}")
        return HttpResponseRedirect(target)


def _return_url(request: HttpRequest) -> str:
    # Where the operator goes back to once the masquerade ends: the admin's user list on the
    # platform host, the API's own profile on a tenant host.
    if is_platform(request_tenant(request)):
        return request.build_absolute_uri(reverse("admin:users_user_changelist"))
    return request.build_absolute_uri("/api/me/")


def _landing_path(request: HttpRequest) -> str:
    # Platform people work in the admin; everyone else on the tenant host's masquerade page.
    return reverse("admin:index") if is_platform(request_tenant(request)) else "/masquerade/"


class MasqueradeReleaseView(hijack_views.ReleaseUserView):
    """POST: stop masquerading; back to where the real user started (the admin, usually)."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        record = request_masquerade(request)
        if record is None:
            return json_error(409, "not_masquerading", "This session is not masquerading.")
        destination = masquerade_session_release(
            request=request, record=record, end_reason="released"
        )
        return HttpResponseRedirect(destination)


class MasqueradeEnterView(View):
    """GET ``?ticket=``: the target host's side of the admin hand-off."""

    def get(self, request: HttpRequest) -> HttpResponse:
        try:
            masquerade_handoff_redeem(request=request, ticket=request.GET.get("ticket", ""))
        except DomainError as error:
            return _error(error)
        return HttpResponseRedirect("/masquerade/")


class MasqueradeLandingView(View):
    """Where a masquerading operator lands: who they are now, who they really are, and the way
    back (the release button is in the banner every HTML page gets while masquerading)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        record = request_masquerade(request)
        if record is None:
            return json_error(404, "not_masquerading", "This session is not masquerading.")
        return render(request, "masquerade/landing.html", {"masquerade": record})
