"""The business's people read closures (staff too: they plan around them); owners and managers
(``manage_schedule``) write them. Customers see closures where they matter to them: in
availability."""

from rest_framework.permissions import BasePermission

from access.permissions import IsInScopeOfThisHost, capability_permission
from users.roles import Capability

CLOSURE_PERMISSIONS: list[type[BasePermission]] = [
    IsInScopeOfThisHost,
    capability_permission(Capability.VIEW_SCHEDULE),
    capability_permission(Capability.MANAGE_SCHEDULE, write_only=True),
]
