"""Everyone in scope reads the catalogue (customers book from it); ``manage_services`` writes."""

from rest_framework.permissions import BasePermission

from access.permissions import IsInScopeOfThisHost, capability_permission

SERVICE_PERMISSIONS: list[type[BasePermission]] = [
    IsInScopeOfThisHost,
    capability_permission("manage_services", write_only=True),
]
