"""Who reaches the marketplace's endpoints (capabilities from ``users/roles.py``)."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission

from users.permissions import IsInScopeOfThisHost, capability_permission


def read_write_permission(read: str, write: str) -> type[BasePermission]:
    """``read`` for safe methods, ``write`` for the others."""
    readers, writers = capability_permission(read), capability_permission(write)

    class ReadWrite(BasePermission):
        message = f"This needs the '{read}' permission to read and '{write}' to change."

        def has_permission(self, request: Any, view: Any) -> bool:
            checker = readers if request.method in SAFE_METHODS else writers
            return checker().has_permission(request, view)

    ReadWrite.__name__ = f"Read_{read}_Write_{write}"
    return ReadWrite


CATALOGUE_PERMISSIONS = [IsInScopeOfThisHost]
INSTALL_PERMISSIONS = [IsInScopeOfThisHost, capability_permission("install_plugins")]
INSTALLED_PERMISSIONS = [
    IsInScopeOfThisHost,
    read_write_permission("view_plugins", "manage_plugins"),
]
RATE_PERMISSIONS = [IsInScopeOfThisHost, capability_permission("manage_plugins")]
REVIEW_PERMISSIONS = [
    IsInScopeOfThisHost,
    read_write_permission("view_customers", "manage_customers"),
]
