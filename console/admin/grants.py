"""Permission grants in the admin: created and revoked through access's services."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from access.grants import grant_create, grants_revoke
from access.models import PermissionGrant, PermissionGrantQuerySet
from access.policy import GRANTABLE_ACTIONS
from access.selectors import grant_list_for
from console.admin.service_forms import service_form_for
from core import clock
from core.admin_kit import ServiceForm, status_badge
from users.http import request_user


class GrantStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("active", "Active"), ("expired", "Expired"), ("revoked", "Revoked")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[PermissionGrant]
    ) -> QuerySet[PermissionGrant]:
        now = clock.now()
        if self.value() == "active":
            # The admin's rows are grant_list_for's: PermissionGrant.objects, filtered.
            return cast(PermissionGrantQuerySet, queryset).active(now)
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


class GrantCreateForm(ServiceForm):
    """New grants go through access.grants.grant_create: its rules, its audit line."""

    duration_minutes = forms.IntegerField(initial=30, min_value=1)

    class Meta:
        model = PermissionGrant
        fields = ["grantee", "action", "tenant", "reason"]
        help_texts = {"action": "; ".join(f"{k}: {v}" for k, v in GRANTABLE_ACTIONS.items())}

    def apply(self) -> PermissionGrant:
        data = self.cleaned_data
        return grant_create(
            grantor=request_user(self.request),
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
        return grant_list_for(viewer=request_user(request))

    def get_form(
        self,
        request: HttpRequest,
        obj: PermissionGrant | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> type[forms.ModelForm[Any]]:
        if obj is not None:
            return super().get_form(request, obj, change, **kwargs)
        form = super().get_form(request, obj, change, form=GrantCreateForm, **kwargs)
        return service_form_for(form, request)

    def get_readonly_fields(
        self, request: HttpRequest, obj: PermissionGrant | None = None
    ) -> list[str]:
        # A grant is a fact once made: it can be revoked, never rewritten.
        return self.readonly_fields if obj is not None else []

    def get_fields(
        self, request: HttpRequest, obj: PermissionGrant | None = None
    ) -> tuple[str, ...]:
        if obj is None:
            return ("grantee", "action", "tenant", "reason", "duration_minutes")
        return tuple(self.readonly_fields)

    def save_model(
        self, request: HttpRequest, obj: PermissionGrant, form: Any, change: bool
    ) -> None:
        # grant_create already saved (and audited) it while validating the form.
        return None

    def has_delete_permission(
        self, request: HttpRequest, obj: PermissionGrant | None = None
    ) -> bool:
        return False

    @admin.display(description="Status")
    def status_badge(self, obj: PermissionGrant) -> str:
        return status_badge(obj.status)

    @admin.action(description="Revoke selected grants", permissions=["change"])
    def revoke_selected(self, request: HttpRequest, queryset: PermissionGrantQuerySet) -> None:
        count = grants_revoke(
            grants=queryset,
            revoked_by=request_user(request),
            reason="Revoked in the admin",
            request=request,
        )
        self.message_user(request, f"Revoked {count} active grant(s).", messages.SUCCESS)
