from core.models.audit import AppendOnlyError, AuditEvent, MasqueradeLogBacklog
from core.models.grants import GRANTABLE_ACTIONS, PermissionGrant
from core.models.masquerade import MasqueradeSession
from core.models.tenancy import Domain, Tenant

__all__ = [
    "GRANTABLE_ACTIONS",
    "AppendOnlyError",
    "AuditEvent",
    "Domain",
    "MasqueradeLogBacklog",
    "MasqueradeSession",
    "PermissionGrant",
    "Tenant",
]
