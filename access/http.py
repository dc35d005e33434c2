"""Typed reads of what authentication puts on a request, for code that mypy checks."""

from __future__ import annotations

from typing import Protocol, cast

from django.http import HttpRequest
from rest_framework.request import Request

from access.models import MasqueradeSession


class _Marked(Protocol):
    masquerade: MasqueradeSession | None


def request_masquerade(request: HttpRequest | Request) -> MasqueradeSession | None:
    """The masquerade the request is made in (a browser session's or a masquerade token's),
    else None."""
    return cast(MasqueradeSession | None, getattr(request, "masquerade", None))


def request_masquerade_mark(request: HttpRequest, record: MasqueradeSession | None) -> None:
    """Mark ``request`` as made in ``record`` (None: in no masquerade)."""
    cast(_Marked, request).masquerade = record
