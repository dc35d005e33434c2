from core.models.grants import GRANTABLE_ACTIONS, PermissionGrant
from core.models.masquerade import MasqueradeSession
from core.models.tenancy import Domain, Tenant

__all__ = ["GRANTABLE_ACTIONS", "Domain", "MasqueradeSession", "PermissionGrant", "Tenant"]
