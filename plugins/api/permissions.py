"""Who reaches the marketplace's endpoints (capabilities from ``users/roles.py``)."""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from access.permissions import IsInScopeOfThisHost, capability_permission

CATALOGUE_PERMISSIONS: list[type[BasePermission]] = [IsInScopeOfThisHost]
INSTALL_PERMISSIONS: list[type[BasePermission]] = [
    IsInScopeOfThisHost,
    capability_permission("install_plugins"),
]
INSTALLED_PERMISSIONS: list[type[BasePermission]] = [
    IsInScopeOfThisHost,
    capability_permission("view_plugins"),
    capability_permission("manage_plugins", write_only=True),
]
RATE_PERMISSIONS: list[type[BasePermission]] = [
    IsInScopeOfThisHost,
    capability_permission("manage_plugins"),
]
REVIEW_PERMISSIONS: list[type[BasePermission]] = [
    IsInScopeOfThisHost,
    capability_permission("view_customers"),
    capability_permission("manage_customers", write_only=True),
]
