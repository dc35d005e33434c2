"""Typed reads of what authentication puts on a request, for code that mypy checks."""

from __future__ import annotations

from django.http import HttpRequest
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request

from users.models import User


def request_user(request: HttpRequest | Request) -> User:
    """The signed-in user of a request that may only reach this code authenticated (a view
    behind ``IsInScopeOfThisHost``, an admin page); fails closed (401) if there is none after
    all."""
    user = request.user
    if not isinstance(user, User):
        raise NotAuthenticated()
    return user
