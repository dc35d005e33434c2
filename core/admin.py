from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from core import clock
from core.exceptions import DomainError
from core.models import GRANTABLE_ACTIONS, Domain, MasqueradeSession, PermissionGrant, Tenant

STATUS_COLOURS = {
    "ACTIVE": "#15803d",
    "TRIAL": "#0369a1",
    "SUSPENDED": "#b91c1c",
    "EXPIRED": "#6b7280",
    "REVOKED": "#b91c1c",
    "ENDED": "#374151",
}


def badge(text: str) -> str:
    return format_html(
        '<span class="status-badge status-{}" style="background:{};color:#fff;padding:2px 8px;'
        'border-radius:10px;font-size:11px">{}</span>',
        text.lower(),
        STATUS_COLOURS.get(text, "#6b7280"),
        text.title(),
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
    model = Domain
    extra = 0
    fields = ["domain", "is_primary", "is_custom_domain", "route53_zone_id", "verification_status"]
    readonly_fields = ["verification_status"]


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = [
        "name", "schema_name", "subscription_tier", "status_badge", "timezone", "primary_host",
        "created_at",
    ]  # fmt: skip
    list_filter = ["subscription_tier", "status"]
    search_fields = ["name", "schema_name", "domains__domain"]
    readonly_fields = ["public_id", "created_at", "updated_at"]
    inlines = [DomainInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tenant]:
        from users.selectors import tenant_list_for

        return tenant_list_for(viewer=request.user)

    def get_readonly_fields(self, request, obj=None):
        # The schema name is the tenant's address in PostgreSQL: fixed once the schema exists.
        return [*self.readonly_fields, "schema_name"] if obj else self.readonly_fields

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: Tenant) -> str:
        return badge(obj.status)

    @admin.display(description="Primary host")
    def primary_host(self, obj: Tenant) -> str:
        return next((d.domain for d in obj.domains.all() if d.is_primary), "")


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = ["domain", "tenant", "is_primary", "is_custom_domain", "verification_status"]
    list_filter = ["is_custom_domain", "verification_status"]
    search_fields = ["domain", "tenant__name"]
    readonly_fields = ["verification_status", "verification_checked_at", "verification_error"]


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


class GrantCreateForm(forms.ModelForm):
    """New grants go through core.grants.grant_create: its rules, its audit line."""

    duration_minutes = forms.IntegerField(initial=30, min_value=1)
    request: HttpRequest

    class Meta:
        model = PermissionGrant
        fields = ["grantee", "action", "tenant", "reason"]
        help_texts = {"action": "; ".join(f"{k}: {v}" for k, v in GRANTABLE_ACTIONS.items())}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        from core.grants import grant_create

        try:
            self.instance = grant_create(
                grantor=self.request.user,
                grantee=data["grantee"],
                action=data["action"],
                reason=data["reason"],
                duration_minutes=data["duration_minutes"],
                tenant=data.get("tenant"),
                request=self.request,
            )
        except DomainError as error:
            raise ValidationError(error.message) from None
        return data

    def save(self, commit: bool = True) -> PermissionGrant:
        self.save_m2m = lambda: None
        return self.instance


@admin.register(PermissionGrant)
class PermissionGrantAdmin(admin.ModelAdmin):
    list_display = [
        "grantee", "action", "tenant", "status_badge", "grantor", "created_at", "expires_at",
        "reason",
    ]  # fmt: skip
    list_filter = [GrantStatusFilter, "action", "tenant"]
    list_select_related = ["grantee", "grantor", "tenant"]
    search_fields = ["grantee__email", "grantor__email", "reason"]
    actions = ["revoke_selected"]
    readonly_fields = [
        "public_id", "grantor", "grantee", "action", "tenant", "reason", "created_at",
        "expires_at", "revoked_at", "revoked_by", "revoke_reason",
    ]  # fmt: skip

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
        return badge(obj.status)

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
    list_filter = ["channel", "end_reason", "tenant"]
    list_select_related = ["hijacker", "hijacked", "tenant"]
    search_fields = ["hijacker__email", "hijacked__email", "reason"]
    exclude = ["handoff_digest"]

    @admin.display(description="State")
    def state(self, obj: MasqueradeSession) -> str:
        if obj.ended_at is not None:
            return badge("EXPIRED" if obj.end_reason == "expired" else "ENDED")
        return badge("ACTIVE" if obj.is_live(clock.now()) else "EXPIRED")
