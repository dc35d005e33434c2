"""API keys are a credential of the business: its owners (``manage_api_keys``) create, list and
revoke them; a masquerade does not lend that (``access.policy.MASQUERADE_GUARDED_CAPABILITIES``)."""

from rest_framework.permissions import BasePermission

from access.permissions import IsInScopeOfThisHost, capability_permission
from users.roles import Capability

API_KEY_PERMISSIONS: list[type[BasePermission]] = [
    IsInScopeOfThisHost,
    capability_permission(Capability.MANAGE_API_KEYS),
]
