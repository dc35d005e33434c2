"""Audit tenant creation whichever way it happens (API, seed_demo, the seed's shell snippet)."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from core.audit import security_event
from core.models import Tenant


@receiver(post_save, sender=Tenant, dispatch_uid="audit_tenant_created")
def audit_tenant_created(sender: type[Tenant], instance: Tenant, created: bool, **kwargs) -> None:
    if created:
        security_event(
            "tenant_created",
            tenant_schema=instance.schema_name,
            tenant_name=instance.name,
            subscription_tier=instance.subscription_tier,
        )
