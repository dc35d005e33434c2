"""Audit tenant creation whichever way it happens (API, seed_demo, the seed's shell snippet), and
forget cached host routes whenever a tenant or a domain changes."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from core.audit import security_event
from core.models import Domain, Tenant
from core.selectors import routes_forget


@receiver(post_save, sender=Tenant, dispatch_uid="audit_tenant_created")
def audit_tenant_created(sender: type[Tenant], instance: Tenant, created: bool, **kwargs) -> None:
    # core.services.tenant_provision records its tenants itself (with the actor) and says so.
    if created and getattr(instance, "audit_creation", True):
        security_event(
            "tenant_created",
            subject=instance,
            tenant=instance,
            tenant_schema=instance.schema_name,
            tenant_name=instance.name,
            subscription_tier=instance.subscription_tier,
        )


@receiver(post_save, sender=Tenant, dispatch_uid="routes_forget_tenant_saved")
@receiver(post_delete, sender=Tenant, dispatch_uid="routes_forget_tenant_deleted")
@receiver(post_save, sender=Domain, dispatch_uid="routes_forget_domain_saved")
@receiver(post_delete, sender=Domain, dispatch_uid="routes_forget_domain_deleted")
def forget_routes(sender: type, **kwargs) -> None:
    # Now, for this connection's later reads; and again at commit, in case another thread cached
    # the old row while this transaction was still open.
    routes_forget()
    transaction.on_commit(routes_forget)
