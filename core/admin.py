from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.utils.html import format_html

from core.aws import AwsError
from core.domains import custom_domain_add, custom_domain_remove, custom_domain_verify
from core.exceptions import DomainError
from core.models import Domain, Tenant
from core.selectors import tenant_logo_url
from core.validators import validate_custom_hostname


class DomainInline(admin.TabularInline):
    """Platform subdomains. Custom domains are added and removed in Domains, where Route53 is
    kept in step."""

    model = Domain
    extra = 0
    fields = ["domain", "is_primary", "is_custom_domain", "verification_status"]
    readonly_fields = ["is_custom_domain", "verification_status"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["name", "schema_name", "subscription_tier", "status", "timezone", "created_at"]
    list_filter = ["subscription_tier", "status"]
    search_fields = ["name", "schema_name", "domains__domain"]
    # The logo is uploaded through the tenant's API (validated, stored in its media prefix).
    exclude = ["logo"]
    readonly_fields = ["public_id", "logo_link", "created_at", "updated_at"]
    inlines = [DomainInline]

    def get_readonly_fields(self, request, obj=None):
        # The schema name is the tenant's address in PostgreSQL: fixed once the schema exists.
        return [*self.readonly_fields, "schema_name"] if obj else self.readonly_fields

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
        colour = VERIFICATION_COLOURS.get(domain.verification_status, "#666")
        return format_html(
            '<span style="background:{};color:#fff;padding:2px 8px;border-radius:8px;'
            'font-weight:bold">{}</span>',
            colour,
            domain.get_verification_status_display(),
        )

    @admin.action(description="Verify now (check the Route53 record)", permissions=["change"])
    def verify_now(self, request, queryset) -> None:
        for domain in queryset.select_related("tenant"):
            if not domain.is_custom_domain:
                self.message_user(
                    request, f"Skipped {domain.domain}: a platform domain.", messages.INFO
                )
                continue
            try:
                checked = custom_domain_verify(domain=domain, actor=request.user, request=request)
            except AwsError as error:
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
