"""Who reaches the marketplace's endpoints (capabilities from ``users/roles.py``)."""

from __future__ import annotations

from access.permissions import IsInScopeOfThisHost, capability_permission

CATALOGUE_PERMISSIONS = [IsInScopeOfThisHost]
INSTALL_PERMISSIONS = [IsInScopeOfThisHost, capability_permission("install_plugins")]
INSTALLED_PERMISSIONS = [
    IsInScopeOfThisHost,
    capability_permission("view_plugins"),
    capability_permission("manage_plugins", write_only=True),
]
RATE_PERMISSIONS = [IsInScopeOfThisHost, capability_permission("manage_plugins")]
REVIEW_PERMISSIONS = [
    IsInScopeOfThisHost,
    capability_permission("view_customers"),
    capability_permission("manage_customers", write_only=True),
]
