from django.contrib import admin

from core.models import Domain, Tenant


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0
    fields = ["domain", "is_primary", "is_custom_domain", "route53_zone_id", "verification_status"]
    readonly_fields = ["verification_status"]


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["name", "schema_name", "subscription_tier", "status", "timezone", "created_at"]
    list_filter = ["subscription_tier", "status"]
    search_fields = ["name", "schema_name", "domains__domain"]
    readonly_fields = ["public_id", "created_at", "updated_at"]
    inlines = [DomainInline]

    def get_readonly_fields(self, request, obj=None):
        # The schema name is the tenant's address in PostgreSQL: fixed once the schema exists.
        return [*self.readonly_fields, "schema_name"] if obj else self.readonly_fields


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = ["domain", "tenant", "is_primary", "is_custom_domain", "verification_status"]
    list_filter = ["is_custom_domain", "verification_status"]
    search_fields = ["domain", "tenant__name"]
    readonly_fields = ["verification_status", "verification_checked_at", "verification_error"]
