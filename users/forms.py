"""The admin's login form, through the same sign-in check as the API."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from rest_framework.exceptions import AuthenticationFailed

from users.services import user_authenticate_on_host
from users.signin import SignInThrottled


class AdminSignInForm(AdminAuthenticationForm):
    """``/admin/login/``: the per-address rate, the per-account backoff and the host check of
    ``user_authenticate_on_host``, then the admin's own rule (platform staff only). A throttled
    or locked attempt shows the same message whatever the password was."""

    def clean(self) -> dict[str, Any]:
        email = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if email is not None and password:
            try:
                self.user_cache = user_authenticate_on_host(
                    request=self.request, email=email, password=password
                )
            except SignInThrottled as refusal:
                raise ValidationError(str(refusal.detail), code="throttled") from None
            except AuthenticationFailed:
                raise self.get_invalid_login_error() from None
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data
