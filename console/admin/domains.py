"""Domains in the admin: custom domains added, verified and removed with Route53 kept in step."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import LogEntry
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from access.selectors import domain_list_for, tenant_list_reached_by
from core.admin_kit import badge
from core.exceptions import DomainError
from core.validators import validate_custom_hostname
from tenancy.dns_lookup import DnsUnavailable
from tenancy.domains import custom_domain_add, custom_domain_remove, custom_domain_verify
from tenancy.models import Domain
from users.http import request_user
from users.roles import Capability, may_choose_hosted_zone

VERIFICATION_COLOURS: dict[str, str] = {
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
    and "Verify now" checks the record (tenancy.domains does all three)."""

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
        return domain_list_for(viewer=request_user(request))

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "tenant":
            kwargs["queryset"] = tenant_list_reached_by(
                viewer=request_user(request), capability=Capability.MANAGE_SETTINGS
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Domain | None = None) -> list[str]:
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
    def verify_now(self, request: HttpRequest, queryset: QuerySet[Domain]) -> None:
        actor = request_user(request)
        for domain in queryset.select_related("tenant"):
            if not domain.is_custom_domain:
                self.message_user(
                    request, f"Skipped {domain.domain}: a platform domain.", messages.INFO
                )
                continue
            try:
                checked = custom_domain_verify(domain=domain, actor=actor, request=request)
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

    def save_model(self, request: HttpRequest, obj: Domain, form: Any, change: bool) -> None:
        if change or not obj.is_custom_domain:
            super().save_model(request, obj, form, change)
            return
        actor = request_user(request)
        try:
            created = custom_domain_add(
                tenant=obj.tenant,
                domain=obj.domain,
                route53_zone_id=obj.route53_zone_id,
                may_choose_zone=may_choose_hosted_zone(actor),
                actor=actor,
                request=request,
            )
        except DomainError as error:
            self.message_user(request, f"Not added: {error.message}", messages.ERROR)
            return
        obj.pk = created.pk
        obj._state.adding = False

    def log_addition(  # type: ignore[override]  # None when nothing is logged; Django ignores it
        self, request: HttpRequest, obj: Domain, message: Any
    ) -> LogEntry | None:
        if obj.pk is None:  # the service refused it; there is nothing to log
            return None
        return super().log_addition(request, obj, message)

    def response_add(
        self, request: HttpRequest, obj: Domain, post_url_continue: str | None = None
    ) -> HttpResponse:
        if obj.pk is None:
            return HttpResponseRedirect(request.path)
        return super().response_add(request, obj, post_url_continue)

    def delete_model(self, request: HttpRequest, obj: Domain) -> None:
        if not obj.is_custom_domain:
            super().delete_model(request, obj)
            return
        try:
            custom_domain_remove(domain=obj, actor=request_user(request), request=request)
        except DomainError as error:
            self.message_user(request, f"Kept {obj.domain}: {error.message}", messages.ERROR)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Domain]) -> None:
        for domain in queryset.select_related("tenant"):
            self.delete_model(request, domain)

    def response_delete(self, request: HttpRequest, obj_display: str, obj_id: int) -> HttpResponse:
        if Domain.objects.filter(pk=obj_id).exists():  # Route53 refused: the domain stays
            return HttpResponseRedirect(request.path.rsplit("/delete/", 1)[0] + "/")
        return super().response_delete(request, obj_display, obj_id)
