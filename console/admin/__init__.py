"""The operators' admin (SPEC §3): one module per model, each registering its ModelAdmin. Every
queryset comes from the API's selectors and every write goes through the services."""

from console.admin import audit, domains, grants, masquerade, tenants, users

__all__ = ["audit", "domains", "grants", "masquerade", "tenants", "users"]
