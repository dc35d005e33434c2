"""The signed-in user of a schedule endpoint, typed for the services that act as it."""

from __future__ import annotations

from typing import cast

from rest_framework.request import Request

from users.models import User


def request_user(request: Request) -> User:
    """``request.user``, which the endpoints' permission classes (``IsInScopeOfThisHost`` and
    the capability checks) let through only signed in; DRF types it as possibly anonymous."""
    return cast(User, request.user)
