"""Typed reads of what routing puts on a request (``TenantRoutingMiddleware``), for code that
mypy checks: Django's and DRF's request classes do not declare these attributes."""

from __future__ import annotations

from typing import Protocol, cast

from django.http import HttpRequest
from rest_framework.request import Request

from tenancy.models import Tenant


class _Routed(Protocol):
    tenant: Tenant


def request_tenant(request: HttpRequest | Request) -> Tenant:
    """The tenant whose host ``request`` came to; on the platform host, the public schema's
    unsaved stand-in (``tenancy.selectors.platform_tenant``). Set before any view runs."""
    return cast(_Routed, request).tenant


def request_tenant_set(request: HttpRequest, tenant: Tenant) -> None:
    """Route ``request`` to ``tenant`` (``TenantRoutingMiddleware``, before any view runs)."""
    cast(_Routed, request).tenant = tenant
