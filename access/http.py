"""Typed reads of what authentication puts on a request, for code that mypy checks."""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request

from access.models import MasqueradeSession
from users.models import User


def request_masquerade(request: HttpRequest | Request) -> MasqueradeSession | None:
    """The masquerade the request is made in (a browser session's or a masquerade token's),
    else None."""
    return cast(MasqueradeSession | None, getattr(request, "masquerade", None))


def request_user(request: HttpRequest | Request) -> User:
    """The signed-in user of a request every view of which requires one
    (``IsInScopeOfThisHost``); fails closed (401) if there is none after all."""
    user = request.user
    if not isinstance(user, User):
        raise NotAuthenticated()
    return user
