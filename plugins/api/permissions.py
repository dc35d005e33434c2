"""Who reaches the marketplace's endpoints (capabilities from ``users/roles.py``)."""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from access.permissions import IsInScopeOfThisHost, capability_permission
from users.roles import Capability

CATALOGUE_PERMISSIONS: list[type[BasePermission]] = [IsInScopeOfThisHost]
INSTALL_PERMISSIONS: list[type[BasePermission]] = [
    IsInScopeOfThisHost,
    capability_permission(Capability.INSTALL_PLUGINS),
]
INSTALLED_PERMISSIONS: list[type[BasePermission]] = [
    IsInScopeOfThisHost,
    capability_permission(Capability.VIEW_PLUGINS),
    capability_permission(Capability.MANAGE_PLUGINS, write_only=True),
]
RATE_PERMISSIONS: list[type[BasePermission]] = [
    IsInScopeOfThisHost,
    capability_permission(Capability.MANAGE_PLUGINS),
]
REVIEW_PERMISSIONS: list[type[BasePermission]] = [
    IsInScopeOfThisHost,
    capability_permission(Capability.VIEW_CUSTOMERS),
    capability_permission(Capability.MANAGE_CUSTOMERS, write_only=True),
]
