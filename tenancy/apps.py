from django.apps import AppConfig


class TenancyConfig(AppConfig):
    """Tenants and their hosts: provisioning, domains (Route53), routing, tiers, rate limits.
    Its records (Tenant, Domain) keep the ``core`` app label their tables were created under."""

    name = "tenancy"
    verbose_name = "Tenancy"

    def ready(self) -> None:
        from tenancy import cors, signals  # noqa: F401 -- route invalidation, CORS per tenant
