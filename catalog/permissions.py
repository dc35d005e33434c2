"""Everyone in scope reads the catalogue (customers book from it); ``manage_services`` writes."""

from rest_framework.permissions import BasePermission

from access.permissions import IsInScopeOfThisHost, capability_permission
from users.roles import Capability

SERVICE_PERMISSIONS: list[type[BasePermission]] = [
    IsInScopeOfThisHost,
    capability_permission(Capability.MANAGE_SERVICES, write_only=True),
]
