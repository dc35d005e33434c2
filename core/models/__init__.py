from core.models.tenancy import Domain, Tenant

__all__ = ["Domain", "Tenant"]
