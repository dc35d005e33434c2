"""Writes of the marketplace: install, configure, enable/disable, uninstall, rate.

Concurrency: every write that changes a plugin's figures locks that plugin's catalogue row
(``SELECT ... FOR UPDATE``), then rewrites ``install_count`` / ``rating_count`` /
``rating_average`` from a count of the rows, in the same transaction. An install takes that lock
last, after its own row and its ``on_enable`` work (an install not yet committed is invisible to
an uninstall, so the order cannot deadlock); uninstall and rating take it first. The recounts
of one plugin therefore take turns, and the figures always equal a recount.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Avg, Count
from django.http import HttpRequest
from django_tenants.utils import tenant_context
from jsonschema import Draft202012Validator, validators
from rest_framework.request import Request

from core.audit import security_event
from core.exceptions import Conflict, DomainError, TierLimitExceeded
from notifications.models import Delivery, DeliveryStatus, DueJob
from plugins.models import PluginInstallation, PluginRating, PluginTemplate
from plugins.registry import plugin_for
from tenancy.models import Tenant
from users.models import User


def _is_integer(checker: Any, instance: Any) -> bool:
    # JSON Schema counts 7.0 as an integer; the plugins' code (time(hour), range(n)) does not.
    return isinstance(instance, int) and not isinstance(instance, bool)


SettingsValidator = validators.extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer),
)


def settings_with_defaults(schema: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with each top-level property's ``default`` filled in where it is missing."""
    defaults = {
        name: spec["default"]
        for name, spec in schema.get("properties", {}).items()
        if "default" in spec
    }
    return {**defaults, **values}


def settings_validate(schema: dict[str, Any], values: Any) -> dict[str, Any]:
    """Check ``values`` against the plugin's JSON Schema; 400 naming every bad field."""
    if not isinstance(values, dict):
        raise DomainError(
            "Settings are a JSON object.", fields={"settings": ["Expected an object."]}
        )
    complete = settings_with_defaults(schema, values)
    fields: dict[str, list[str]] = {}
    for error in sorted(SettingsValidator(schema).iter_errors(complete), key=str):
        if error.validator == "additionalProperties":
            known = set(error.schema.get("properties", {}))
            for name in sorted(set(error.instance) - known):
                fields.setdefault(f"settings.{name}", []).append("Unknown setting.")
            continue
        path = ".".join(str(p) for p in error.absolute_path)
        fields.setdefault(f"settings.{path}" if path else "settings", []).append(error.message)
    if fields:
        first = next(iter(fields))
        raise DomainError(f"{first}: {fields[first][0]}", code="invalid_settings", fields=fields)
    return complete


def _lock(plugin: PluginTemplate) -> PluginTemplate:
    return PluginTemplate.objects.select_for_update().get(pk=plugin.pk)


def _recount_installs(plugin: PluginTemplate) -> None:
    count = PluginInstallation.objects.filter(plugin=plugin).count()
    PluginTemplate.objects.filter(pk=plugin.pk).update(install_count=count)


def _recount_ratings(plugin: PluginTemplate) -> None:
    figures = PluginRating.objects.filter(plugin=plugin).aggregate(n=Count("id"), avg=Avg("score"))
    average = None
    if figures["avg"] is not None:
        average = Decimal(str(figures["avg"])).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    PluginTemplate.objects.filter(pk=plugin.pk).update(
        rating_count=figures["n"], rating_average=average
    )


def plugin_figures_recount(*, plugin_ids: list[int]) -> None:
    """Rewrite the figures of these plugins from their rows, after rows went without a service
    of this module (a deleted tenant's installs and ratings). Lock the plugins first, in order,
    with ``plugin_rows_lock``."""
    for plugin in PluginTemplate.objects.filter(pk__in=plugin_ids):
        _recount_installs(plugin)
        _recount_ratings(plugin)


def plugin_rows_lock(*, tenant: Tenant) -> list[int]:
    """Lock the catalogue rows of the plugins ``tenant`` installed or rated (in id order, as
    every write of this module does) and return their ids."""
    ids = set(PluginInstallation.objects.filter(tenant=tenant).values_list("plugin_id", flat=True))
    ids |= set(PluginRating.objects.filter(tenant=tenant).values_list("plugin_id", flat=True))
    return list(
        PluginTemplate.objects.select_for_update()
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def plugin_installations_export(*, tenant: Tenant) -> list[dict[str, Any]]:
    """``tenant``'s installations as data (console.tenant_archive): plugin, settings, state."""
    return [
        {"plugin": slug, "settings": values, "enabled": enabled, "accepted_permissions": accepted}
        for slug, values, enabled, accepted in PluginInstallation.objects.filter(tenant=tenant)
        .order_by("plugin__slug")
        .values_list("plugin__slug", "settings", "enabled", "accepted_permissions")
    ]


def plugin_installations_restore(
    *, tenant: Tenant, installations: list[dict[str, Any]]
) -> list[str]:
    """Install for a new ``tenant`` what an archive lists (``plugin_installations_export``), in
    the caller's transaction, with its settings and state; an enabled plugin starts its work
    (reminders, agenda...) as an install does. Returns the slugs this platform does not have,
    which are left out."""
    wanted = {entry["plugin"]: entry for entry in installations}
    plugins = list(
        PluginTemplate.objects.select_for_update().filter(slug__in=wanted).order_by("pk")
    )
    for plugin in plugins:
        entry = wanted[plugin.slug]
        PluginInstallation.objects.create(
            tenant=tenant, plugin=plugin, settings=entry["settings"], enabled=entry["enabled"],
            accepted_permissions=entry["accepted_permissions"],
        )  # fmt: skip
        _recount_installs(plugin)
        implementation = plugin_for(plugin.slug)
        if entry["enabled"] and implementation is not None:
            with tenant_context(tenant):
                implementation.on_enable(tenant=tenant, settings=entry["settings"])
    return sorted(set(wanted) - {plugin.slug for plugin in plugins})


def plugin_install(
    *,
    tenant: Tenant,
    plugin: PluginTemplate,
    actor: User | None,
    accepted_permissions: list[str],
    settings: dict[str, Any] | None = None,
    request: HttpRequest | Request | None = None,
) -> PluginInstallation:
    """Install ``plugin`` for ``tenant`` once its permissions are consented to."""
    required = sorted(p["code"] for p in plugin.required_permissions)
    missing = sorted(set(required) - set(accepted_permissions))
    if missing:
        raise DomainError(
            "Accept the permissions this plugin needs to install it.",
            code="permissions_not_accepted",
            fields={"accepted_permissions": [f"Missing: {', '.join(missing)}."]},
        )
    if plugin.allowed_tiers and tenant.subscription_tier not in plugin.allowed_tiers:
        raise TierLimitExceeded(
            f"'{plugin.name}' needs one of the plans {', '.join(plugin.allowed_tiers)}.",
            fields={"plugin": [f"Not available on {tenant.subscription_tier}."]},
        )
    values = settings_validate(plugin.settings_schema, settings or {})
    with transaction.atomic():
        # The unique constraint settles a second install of the same plugin by the same tenant
        # (it waits for the first to commit). The plugin's row, which every tenant's install of
        # it shares, is locked only for the recount at the end: a big tenant's ``on_enable``
        # (scheduling its reminders) does not hold up everyone else's installs and ratings.
        try:
            with transaction.atomic():
                installation = PluginInstallation.objects.create(
                    tenant=tenant, plugin=plugin, settings=values, installed_by=actor,
                    accepted_permissions=required,
                )  # fmt: skip
        except IntegrityError:
            raise Conflict(
                f"'{plugin.name}' is already installed.", code="plugin_already_installed"
            ) from None
        implementation = plugin_for(plugin.slug)
        if implementation is not None:
            with tenant_context(tenant):
                implementation.on_enable(tenant=tenant, settings=values)
        plugin = _lock(plugin)
        _recount_installs(plugin)
        security_event(
            "plugin_installed", request=request, actor=actor, subject=installation,
            tenant=tenant, plugin=plugin.slug, permissions=required,
        )  # fmt: skip
    return installation


def plugin_configure(
    *,
    installation: PluginInstallation,
    actor: User,
    settings: dict[str, Any] | None = None,
    enabled: bool | None = None,
    request: HttpRequest | Request | None = None,
) -> PluginInstallation:
    """Change an installation's settings and/or switch it on or off; its scheduled work follows."""
    with transaction.atomic():
        installation = (
            PluginInstallation.objects.select_for_update()
            .select_related("plugin", "tenant")
            .get(pk=installation.pk)
        )
        plugin, tenant = installation.plugin, installation.tenant
        fields = ["updated_at"]
        if settings is not None:
            if not isinstance(settings, dict):  # checked before merging: 400, not a 500
                settings_validate(plugin.settings_schema, settings)
            merged = {**installation.settings, **settings}
            installation.settings = settings_validate(plugin.settings_schema, merged)
            fields.append("settings")
        if enabled is not None:
            installation.enabled = enabled
            fields.append("enabled")
        installation.save(update_fields=fields)
        implementation = plugin_for(plugin.slug)
        if implementation is not None:
            with tenant_context(tenant):
                if installation.enabled:
                    implementation.on_enable(tenant=tenant, settings=installation.settings)
                else:
                    implementation.on_disable(tenant=tenant)
        security_event(
            "plugin_configured", request=request, actor=actor, subject=installation,
            tenant=tenant, plugin=plugin.slug, enabled=installation.enabled,
            settings=installation.settings,
        )  # fmt: skip
    return installation


def plugin_uninstall(
    *,
    tenant: Tenant,
    plugin: PluginTemplate,
    actor: User | None,
    request: HttpRequest | Request | None = None,
) -> None:
    """Remove the installation, the plugin's data in the tenant's schema, its scheduled jobs,
    and cancel what it had not sent yet."""
    with transaction.atomic():
        plugin = _lock(plugin)
        # Locked: a webhook endpoint being created (which locks this row) finishes first, and
        # its endpoint is removed with the rest of the plugin's data.
        installation = (
            PluginInstallation.objects.select_for_update()
            .filter(tenant=tenant, plugin=plugin)
            .first()
        )
        if installation is None:
            raise Conflict(f"'{plugin.name}' is not installed.", code="plugin_not_installed")
        implementation = plugin_for(plugin.slug)
        if implementation is not None:
            with tenant_context(tenant):
                implementation.on_disable(tenant=tenant)
                implementation.on_uninstall(tenant=tenant)
        DueJob.objects.filter(tenant=tenant, plugin=plugin.slug).delete()
        Delivery.objects.filter(
            tenant=tenant, plugin=plugin.slug, status=DeliveryStatus.PENDING
        ).update(status=DeliveryStatus.CANCELLED, claimed_until=None)
        # Recorded before the row goes, as every removal is: the event names what it removed.
        security_event(
            "plugin_uninstalled", request=request, actor=actor, subject=installation,
            tenant=tenant, plugin=plugin.slug,
        )  # fmt: skip
        installation.delete()
        _recount_installs(plugin)


def plugin_rate(
    *,
    tenant: Tenant,
    plugin: PluginTemplate,
    actor: User | None,
    score: int,
    comment: str = "",
    request: HttpRequest | Request | None = None,
) -> PluginRating:
    """The tenant's rating of ``plugin`` (1-5), created or changed."""
    if not 1 <= score <= 5:
        raise DomainError("A rating is 1 to 5.", fields={"score": ["From 1 to 5."]})
    with transaction.atomic():
        plugin = _lock(plugin)
        rating, _ = PluginRating.objects.update_or_create(
            tenant=tenant, plugin=plugin,
            defaults={"score": score, "comment": comment, "rated_by": actor},
        )  # fmt: skip
        _recount_ratings(plugin)
        security_event(
            "plugin_rated", request=request, actor=actor, subject=rating, tenant=tenant,
            plugin=plugin.slug, score=score,
        )  # fmt: skip
    return rating
