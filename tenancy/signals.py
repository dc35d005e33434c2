"""Audit tenant creation whichever way it happens (API, seed_demo, the seed's shell snippet), and
make every worker re-read the route of a host whose Tenant or Domain row changes."""

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from core.audit import security_event
from tenancy.models import Domain, Tenant
from tenancy.selectors import routes_changed


@receiver(post_save, sender=Tenant, dispatch_uid="audit_tenant_created")
def audit_tenant_created(sender: type[Tenant], instance: Tenant, created: bool, **kwargs) -> None:
    # tenancy.services.tenant_provision records its tenants itself (with the actor) and says so.
    if created and getattr(instance, "audit_creation", True):
        security_event(
            "tenant_created",
            subject=instance,
            tenant=instance,
            tenant_schema=instance.schema_name,
            tenant_name=instance.name,
            subscription_tier=instance.subscription_tier,
        )


def _hosts_changed(hosts: set[str]) -> None:
    if not hosts:
        return
    # Now, so this transaction's own later requests see it; and again at commit, because another
    # worker may have cached the old row, under the new stamps, while this transaction was open.
    routes_changed(hosts)
    transaction.on_commit(lambda: routes_changed(hosts))


@receiver(pre_save, sender=Domain, dispatch_uid="routes_domain_renamed")
def remember_previous_name(sender: type[Domain], instance: Domain, **kwargs: Any) -> None:
    # A renamed domain must stop routing under its old name too.
    instance._previous_name = (
        Domain.objects.filter(pk=instance.pk).values_list("domain", flat=True).first()
        if instance.pk is not None
        else None
    )


@receiver(post_save, sender=Domain, dispatch_uid="routes_domain_saved")
@receiver(post_delete, sender=Domain, dispatch_uid="routes_domain_deleted")
def domain_routes_changed(sender: type[Domain], instance: Domain, **kwargs: Any) -> None:
    hosts = {instance.domain}
    if previous := getattr(instance, "_previous_name", None):
        hosts.add(previous)
    _hosts_changed(hosts)


@receiver(post_save, sender=Tenant, dispatch_uid="routes_tenant_saved")
def tenant_routes_changed(sender: type[Tenant], instance: Tenant, **kwargs: Any) -> None:
    # A deleted tenant's domains are deleted first, each through domain_routes_changed.
    _hosts_changed(set(instance.domains.values_list("domain", flat=True)))
