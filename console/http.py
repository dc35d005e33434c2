"""The typed read of who makes a console request, for code that mypy checks."""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest
from rest_framework.request import Request

from users.models import User


def request_user(request: HttpRequest | Request) -> User:
    """The signed-in user making ``request``. The console's API views and admin pages run only
    after authentication (``IsInScopeOfThisHost``, the admin site's staff login), so it is never
    Django's ``AnonymousUser`` where they call this."""
    return cast(User, request.user)
