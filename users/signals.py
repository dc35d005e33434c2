"""Sign-ins through Django's own machinery (the admin's login form, cookie sessions) are audited
here; JWT sign-ins by their view. Bad passwords are caught by ``authenticate()`` whichever way
they come."""

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import Signal, receiver

from core.audit import security_event

# Sent by ``users.services.user_password_change`` inside its transaction, with ``user`` and
# ``request``: what others hold on the old password's word ends with it (access ends the
# masquerades the user started). A receiver's failure rolls the change back.
password_changed = Signal()


@receiver(user_logged_in, dispatch_uid="audit_session_login")
def audit_session_login(sender: type, request: Any, user: Any, **kwargs: Any) -> None:
    # A masquerade switching the session's user is audited as a masquerade, not as a sign-in.
    if request is None or getattr(request, "masquerade_switch", False):
        return
    security_event("login_succeeded", request=request, actor=user, credential="session")


@receiver(user_login_failed, dispatch_uid="audit_failed_login")
def audit_failed_login(
    sender: str, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    email = str(credentials.get("username") or credentials.get("email") or "").lower()
    security_event("login_failed", request=request, email=email, reason="bad_credentials")
