"""The admin's login form, through the same sign-in check as the API."""

from __future__ import annotations

import math
from typing import Any

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from rest_framework.exceptions import AuthenticationFailed

from users.services import user_authenticate_on_host
from users.signin import SignInThrottled


class AdminSignInForm(AdminAuthenticationForm):
    """``/admin/login/``: the per-address rate, the per-account backoff and the host check of
    ``user_authenticate_on_host``, then the admin's own rule (platform staff only). A throttled
    or locked attempt shows the same message whatever the password was, and the page answers
    429 with ``Retry-After`` (``admin_login``)."""

    throttled: SignInThrottled | None = None

    def clean(self) -> dict[str, Any]:
        email = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if email is not None and password:
            try:
                self.user_cache = user_authenticate_on_host(
                    request=self.request, email=email, password=password
                )
            except SignInThrottled as refusal:
                self.throttled = refusal
                raise ValidationError(str(refusal.detail), code="throttled") from None
            except AuthenticationFailed:
                raise self.get_invalid_login_error() from None
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


def admin_login(request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
    """The admin's login view, answering a throttled or locked attempt with 429 and
    ``Retry-After`` (the form again, with the reason) instead of a 200."""
    response = admin.site.login(request, extra_context)
    form = (getattr(response, "context_data", None) or {}).get("form")
    refusal = getattr(form, "throttled", None)
    if refusal is not None:
        response.status_code = 429
        response["Retry-After"] = str(math.ceil(refusal.wait or 1))
    return response
