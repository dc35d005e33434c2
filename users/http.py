"""Typed reads of what authentication puts on a request, for code that mypy checks."""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest
from rest_framework.request import Request

from users.models import User


def request_user(request: HttpRequest | Request) -> User:
    """The signed-in user of a request that may only reach this code authenticated (a view
    behind ``IsAuthenticated`` or a login check): never the anonymous user."""
    return cast(User, request.user)
