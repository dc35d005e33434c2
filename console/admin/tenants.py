"""Tenants in the admin: created and changed through tenancy's services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from access.selectors import tenant_list_for
from console.admin.service_forms import service_form_for
from core.admin_kit import ServiceForm, status_badge
from core.exceptions import DomainError
from tenancy.models import Domain, Tenant
from tenancy.selectors import tenant_logo_url
from tenancy.services import (
    tenant_deletion_cancel,
    tenant_deletion_schedule,
    tenant_provision,
    tenant_update,
)
from users.http import request_user


class DomainInline(admin.TabularInline):
    """Platform subdomains. Custom domains are added and removed in Domains, where Route53 is
    kept in step."""

    model = Domain
    extra = 0
    fields = ["domain", "is_primary", "is_custom_domain", "verification_status"]
    readonly_fields = ["is_custom_domain", "verification_status"]

    def has_delete_permission(self, request: HttpRequest, obj: Tenant | None = None) -> bool:
        return False


# A tenant's settings: what tenant_provision takes besides its addresses, and tenant_update
# (the API's PATCH) changes.
TENANT_SETTINGS = [
    "name", "subscription_tier", "status", "timezone", "cancellation_window_hours",
    "late_cancellation_fee_percent",
]  # fmt: skip


class TenantAddForm(ServiceForm):
    """A new tenant is provisioned by tenancy.services.tenant_provision, as over the API: its
    schema and its primary domain together, or nothing."""

    domain = forms.CharField(max_length=253, help_text="Its primary host name.")

    class Meta:
        model = Tenant
        fields = ["schema_name", "domain", *TENANT_SETTINGS]

    field_order = ["name", "schema_name", "domain"]

    def apply(self) -> Tenant:
        data = self.cleaned_data
        return tenant_provision(
            actor=request_user(self.request),
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
        return tenant_list_for(viewer=request_user(request))

    def has_delete_permission(self, request: HttpRequest, obj: Tenant | None = None) -> bool:
        # A tenant is suspended, never deleted with a click: its schema holds a business.
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Tenant | None = None) -> list[str]:
        # The schema name is the tenant's address in PostgreSQL: fixed once the schema exists.
        return [*self.readonly_fields, "schema_name"] if obj else []

    def get_form(
        self, request: HttpRequest, obj: Tenant | None = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm[Any]]:
        if obj is not None:
            return super().get_form(request, obj, change, **kwargs)
        form = super().get_form(request, obj, change, form=TenantAddForm, **kwargs)
        return service_form_for(form, request)

    def get_inlines(self, request: HttpRequest, obj: Tenant | None = None) -> list:
        # A new tenant's primary domain is part of the add form; more come once it exists.
        return self.inlines if obj is not None else []

    def save_model(self, request: HttpRequest, obj: Tenant, form: Any, change: bool) -> None:
        """Additions were provisioned while the form was validated; changes go through
        tenant_update, which audits a suspension or reactivation."""
        changes = {field: form.cleaned_data[field] for field in form.changed_data}
        if change and changes:
            tenant_update(tenant=obj, actor=request_user(request), request=request, **changes)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: Tenant) -> str:
        return status_badge(obj.status)

    @admin.action(
        description="Schedule deletion (after the grace period; the hosts stop answering now)",
        permissions=["change"],
    )
    def schedule_deletion(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        actor = request_user(request)
        for tenant in queryset:
            try:
                done = tenant_deletion_schedule(tenant=tenant, actor=actor, request=request)
            except DomainError as error:
                self.message_user(request, error.message, messages.WARNING)
                continue
            self.message_user(
                request,
                f"'{done.name}' will be deleted on {done.deletion_due_at:%Y-%m-%d %H:%M} UTC.",
                messages.SUCCESS,
            )

    @admin.action(description="Cancel scheduled deletion", permissions=["change"])
    def cancel_deletion(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        actor = request_user(request)
        for tenant in queryset:
            try:
                done = tenant_deletion_cancel(tenant=tenant, actor=actor, request=request)
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
