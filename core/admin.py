from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.utils.html import format_html

import core.admin_audit  # noqa: F401 -- registers the audit trail's admin
from core import clock
from core.admin_display import badge
from core.admin_forms import ServiceForm
from core.dns_lookup import DnsUnavailable
from core.domains import custom_domain_add, custom_domain_remove, custom_domain_verify
from core.exceptions import DomainError
from core.models import GRANTABLE_ACTIONS, Domain, MasqueradeSession, PermissionGrant, Tenant
from core.selectors import (
    domain_list_for,
    grant_list_for,
    masquerade_list_for,
    tenant_list_reached_by,
    tenant_logo_url,
)
from core.services import (
    tenant_deletion_cancel,
    tenant_deletion_schedule,
    tenant_provision,
    tenant_update,
)
from core.validators import validate_custom_hostname

STATUS_COLOURS = {
    "ACTIVE": "#15803d",
    "TRIAL": "#0369a1",
    "SUSPENDED": "#b91c1c",
    "EXPIRED": "#6b7280",
    "REVOKED": "#b91c1c",
    "ENDED": "#374151",
}


def status_badge(status: str) -> str:
    return badge(
        kind="status", value=status, label=status.title(), colour=STATUS_COLOURS.get(status)
    )


class ReadOnlyAdmin(admin.ModelAdmin):
    """Audit facts: shown, never added, edited or deleted through the admin."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class DomainInline(admin.TabularInline):
    """Platform subdomains. Custom domains are added and removed in Domains, where Route53 is
    kept in step."""

    model = Domain
    extra = 0
    fields = ["domain", "is_primary", "is_custom_domain", "verification_status"]
    readonly_fields = ["is_custom_domain", "verification_status"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# A tenant's settings: what tenant_provision takes besides its addresses, and tenant_update
# (the API's PATCH) changes.
TENANT_SETTINGS = [
    "name", "subscription_tier", "status", "timezone", "cancellation_window_hours",
    "late_cancellation_fee_percent",
]  # fmt: skip


class TenantAddForm(ServiceForm):
    """A new tenant is provisioned by core.services.tenant_provision, as over the API: its
    schema and its primary domain together, or nothing."""

    domain = forms.CharField(max_length=253, help_text="Its primary host name.")

    class Meta:
        model = Tenant
        fields = ["schema_name", "domain", *TENANT_SETTINGS]

    field_order = ["name", "schema_name", "domain"]

    def apply(self) -> Tenant:
        data = self.cleaned_data
        return tenant_provision(
            actor=self.request.user,
            schema_name=data["schema_name"],
            domain=data["domain"],
            **{field: data[field] for field in TENANT_SETTINGS},
        )


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = [
        "name", "schema_name", "subscription_tier", "status_badge", "timezone", "primary_host",
        "created_at",
    ]  # fmt: skip
    list_filter = ["subscription_tier", "status"]
    search_fields = ["name", "schema_name", "domains__domain"]
    # The logo is uploaded through the tenant's API (validated, stored in its media prefix).
    exclude = ["logo"]
    # A deletion is scheduled and cancelled by the actions below (audited), never typed in.
    readonly_fields = ["public_id", "logo_link", "deletion_due_at", "created_at", "updated_at"]
    inlines = [DomainInline]
    actions = ["schedule_deletion", "cancel_deletion"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tenant]:
        from users.selectors import tenant_list_for

        return tenant_list_for(viewer=request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A tenant is suspended, never deleted with a click: its schema holds a business.
        return False

    def get_readonly_fields(self, request, obj=None):
        # The schema name is the tenant's address in PostgreSQL: fixed once the schema exists.
        return [*self.readonly_fields, "schema_name"] if obj else []

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        if obj is not None:
            return super().get_form(request, obj, **kwargs)
        form = super().get_form(request, obj, form=TenantAddForm, **kwargs)
        form.request = request
        return form

    def get_inlines(self, request: HttpRequest, obj: Any = None) -> list:
        # A new tenant's primary domain is part of the add form; more come once it exists.
        return self.inlines if obj is not None else []

    def save_model(self, request: HttpRequest, obj: Tenant, form: Any, change: bool) -> None:
        """Additions were provisioned while the form was validated; changes go through
        tenant_update, which audits a suspension or reactivation."""
        changes = {field: form.cleaned_data[field] for field in form.changed_data}
        if change and changes:
            tenant_update(tenant=obj, actor=request.user, request=request, **changes)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: Tenant) -> str:
        return status_badge(obj.status)

    @admin.action(
        description="Schedule deletion (after the grace period; the hosts stop answering now)",
        permissions=["change"],
    )
    def schedule_deletion(self, request: HttpRequest, queryset: QuerySet) -> None:
        for tenant in queryset:
            try:
                done = tenant_deletion_schedule(tenant=tenant, actor=request.user, request=request)
            except DomainError as error:
                self.message_user(request, error.message, messages.WARNING)
                continue
            self.message_user(
                request,
                f"'{done.name}' will be deleted on {done.deletion_due_at:%Y-%m-%d %H:%M} UTC.",
                messages.SUCCESS,
            )

    @admin.action(description="Cancel scheduled deletion", permissions=["change"])
    def cancel_deletion(self, request: HttpRequest, queryset: QuerySet) -> None:
        for tenant in queryset:
            try:
                done = tenant_deletion_cancel(tenant=tenant, actor=request.user, request=request)
            except DomainError as error:
                self.message_user(request, error.message, messages.WARNING)
                continue
            self.message_user(request, f"'{done.name}' will not be deleted.", messages.SUCCESS)

    @admin.display(description="Primary host")
    def primary_host(self, obj: Tenant) -> str:
        return next((d.domain for d in obj.domains.all() if d.is_primary), "")

    @admin.display(description="Logo")
    def logo_link(self, tenant: Tenant) -> str:
        url = tenant_logo_url(tenant) if tenant.pk else None
        return format_html('<a href="{}">view (link expires)</a>', url) if url else "—"


VERIFICATION_COLOURS = {
    Domain.Verification.VERIFIED: "#1e7e34",
    Domain.Verification.PENDING: "#b26a00",
    Domain.Verification.FAILED: "#c62828",
}


class DomainAdminForm(forms.ModelForm):
    class Meta:
        model = Domain
        fields = ["domain", "tenant", "is_primary", "is_custom_domain", "route53_zone_id"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("is_custom_domain") and cleaned.get("domain"):
            try:
                validate_custom_hostname(cleaned["domain"].strip().lower())
            except ValidationError as error:
                self.add_error("domain", error)
            if cleaned.get("is_primary"):
                self.add_error("is_primary", "A custom domain is never the primary domain.")
        return cleaned


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    """Adding a custom domain writes its CNAME in Route53, deleting it removes the record,
    and "Verify now" checks the record (core.domains does all three)."""

    form = DomainAdminForm
    list_display = [
        "domain", "tenant", "is_primary", "is_custom_domain", "verification",
        "verification_checked_at", "verification_error",
    ]  # fmt: skip
    list_filter = ["is_custom_domain", "verification_status"]
    search_fields = ["domain", "tenant__name"]
    readonly_fields = [
        "verification", "verification_checked_at", "verification_error", "created_at",
    ]  # fmt: skip
    actions = ["verify_now"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Domain]:
        return domain_list_for(viewer=request.user)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "tenant":
            kwargs["queryset"] = tenant_list_reached_by(
                viewer=request.user, capability="manage_settings"
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.is_custom_domain:
            # Renaming or moving a custom domain would leave its Route53 record behind.
            return [
                "domain", "tenant", "is_primary", "is_custom_domain", "route53_zone_id",
                *self.readonly_fields,
            ]  # fmt: skip
        return self.readonly_fields

    @admin.display(description="Verification", ordering="verification_status")
    def verification(self, domain: Domain) -> str:
        if not domain.is_custom_domain:
            return "platform domain"
        return badge(
            kind="verification",
            value=domain.verification_status,
            label=domain.get_verification_status_display(),
            colour=VERIFICATION_COLOURS.get(domain.verification_status),
        )

    @admin.action(description="Verify now (check the DNS records)", permissions=["change"])
    def verify_now(self, request, queryset) -> None:
        for domain in queryset.select_related("tenant"):
            if not domain.is_custom_domain:
                self.message_user(
                    request, f"Skipped {domain.domain}: a platform domain.", messages.INFO
                )
                continue
            try:
                checked = custom_domain_verify(domain=domain, actor=request.user, request=request)
            except DnsUnavailable as error:
                self.message_user(
                    request, f"Could not check {domain.domain}: {error.message}", messages.ERROR
                )
                continue
            if checked.verification_status == Domain.Verification.VERIFIED:
                self.message_user(request, f"Verified {checked.domain}.", messages.SUCCESS)
            else:
                self.message_user(
                    request,
                    f"Verification failed for {checked.domain}: {checked.verification_error}",
                    messages.WARNING,
                )

    def save_model(self, request, obj: Domain, form, change: bool) -> None:
        if change or not obj.is_custom_domain:
            super().save_model(request, obj, form, change)
            return
        try:
            created = custom_domain_add(
                tenant=obj.tenant,
                domain=obj.domain,
                route53_zone_id=obj.route53_zone_id,
                actor=request.user,
                request=request,
            )
        except DomainError as error:
            self.message_user(request, f"Not added: {error.message}", messages.ERROR)
            return
        obj.pk = created.pk
        obj._state.adding = False

    def log_addition(self, request, obj, message):
        if obj.pk is None:  # the service refused it; there is nothing to log
            return None
        return super().log_addition(request, obj, message)

    def response_add(self, request, obj, post_url_continue=None):
        if obj.pk is None:
            return HttpResponseRedirect(request.path)
        return super().response_add(request, obj, post_url_continue)

    def delete_model(self, request, obj: Domain) -> None:
        if not obj.is_custom_domain:
            super().delete_model(request, obj)
            return
        try:
            custom_domain_remove(domain=obj, actor=request.user, request=request)
        except DomainError as error:
            self.message_user(request, f"Kept {obj.domain}: {error.message}", messages.ERROR)

    def delete_queryset(self, request, queryset) -> None:
        for domain in queryset.select_related("tenant"):
            self.delete_model(request, domain)

    def response_delete(self, request, obj_display, obj_id):
        if Domain.objects.filter(pk=obj_id).exists():  # Route53 refused: the domain stays
            return HttpResponseRedirect(request.path.rsplit("/delete/", 1)[0] + "/")
        return super().response_delete(request, obj_display, obj_id)


class GrantStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("active", "Active"), ("expired", "Expired"), ("revoked", "Revoked")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        now = clock.now()
        if self.value() == "active":
            return queryset.active(now)
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


class GrantCreateForm(ServiceForm):
    """New grants go through core.grants.grant_create: its rules, its audit line."""

    duration_minutes = forms.IntegerField(initial=30, min_value=1)

    class Meta:
        model = PermissionGrant
        fields = ["grantee", "action", "tenant", "reason"]
        help_texts = {"action": "; ".join(f"{k}: {v}" for k, v in GRANTABLE_ACTIONS.items())}

    def apply(self) -> PermissionGrant:
        from core.grants import grant_create

        data = self.cleaned_data
        return grant_create(
            grantor=self.request.user,
            grantee=data["grantee"],
            action=data["action"],
            reason=data["reason"],
            duration_minutes=data["duration_minutes"],
            tenant=data.get("tenant"),
            request=self.request,
        )


@admin.register(PermissionGrant)
class PermissionGrantAdmin(admin.ModelAdmin):
    list_display = [
        "grantee", "action", "tenant", "status_badge", "grantor", "created_at", "expires_at",
        "reason",
    ]  # fmt: skip
    list_filter = [GrantStatusFilter, "action", ("tenant", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["grantee", "grantor", "tenant"]
    search_fields = ["grantee__email", "grantor__email", "reason"]
    actions = ["revoke_selected"]
    readonly_fields = [
        "public_id", "grantor", "grantee", "action", "tenant", "reason", "created_at",
        "expires_at", "revoked_at", "revoked_by", "revoke_reason",
    ]  # fmt: skip

    def get_queryset(self, request: HttpRequest) -> QuerySet[PermissionGrant]:
        return grant_list_for(viewer=request.user)

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any):
        if obj is not None:
            return super().get_form(request, obj, **kwargs)
        form = super().get_form(request, obj, form=GrantCreateForm, **kwargs)
        form.request = request
        return form

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # A grant is a fact once made: it can be revoked, never rewritten.
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return ["grantee", "action", "tenant", "reason", "duration_minutes"]
        return self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # grant_create already saved (and audited) it while validating the form.
        return None

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Status")
    def status_badge(self, obj: PermissionGrant) -> str:
        return status_badge(obj.status)

    @admin.action(description="Revoke selected grants", permissions=["change"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = queryset.revoke(
            revoked_by=request.user, reason="Revoked in the admin", request=request
        )
        self.message_user(request, f"Revoked {count} active grant(s).", messages.SUCCESS)


@admin.register(MasqueradeSession)
class MasqueradeSessionAdmin(ReadOnlyAdmin):
    list_display = [
        "started_at", "hijacker", "hijacked", "tenant", "channel", "state", "expires_at",
        "ended_at", "end_reason", "reason",
    ]  # fmt: skip
    list_filter = ["channel", "end_reason", ("tenant", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["hijacker__email", "hijacked__email", "reason"]
    # Fingerprints of a session and of a hand-off ticket: no use to a reader, and kept out of
    # sight so nobody mistakes them for credentials.
    exclude = ["session_digest", "handoff_digest"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[MasqueradeSession]:
        return masquerade_list_for(viewer=request.user)

    @admin.display(description="State")
    def state(self, obj: MasqueradeSession) -> str:
        if obj.ended_at is not None:
            return status_badge("EXPIRED" if obj.end_reason == "expired" else "ENDED")
        return status_badge("ACTIVE" if obj.is_live(clock.now()) else "EXPIRED")
