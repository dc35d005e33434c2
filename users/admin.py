from django.contrib import admin
from django.contrib.auth import admin as auth_admin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest
from hijack.contrib.admin import HijackUserAdminMixin

from core.admin_display import badge
from core.selectors import platform_tenant
from users.models import User
from users.roles import Role
from users.selectors import user_list_for_host

# Access follows roles (users/roles.py); Django's groups and permissions are not used. Importing
# django.contrib.auth's admin first registers its Group page, which this takes away again.
admin.site.unregister(auth_admin.Group)

# One colour per role, darkest for the most powerful.
ROLE_COLOURS = {
    Role.SUPERUSER: "#7f1d1d",
    Role.PLATFORM_MANAGER: "#b91c1c",
    Role.PLATFORM_SALES: "#c2410c",
    Role.PLATFORM_SUPPORT: "#a16207",
    Role.TENANT_OWNER: "#1d4ed8",
    Role.TENANT_MANAGER: "#0369a1",
    Role.TENANT_STAFF: "#047857",
    Role.CUSTOMER: "#4b5563",
}


def role_badge(role: str) -> str:
    label = Role(role).label if role in Role.values else role
    return badge(kind="role", value=role, label=label, colour=ROLE_COLOURS.get(role))


@admin.register(User)
class UserAdmin(HijackUserAdminMixin, admin.ModelAdmin):
    """Operators' view of people. The impersonate button (django-hijack) appears on a row only
    where core.permissions.may_masquerade allows it for the signed-in operator."""

    list_display = ["email", "role_badge", "tenant", "is_temporary", "is_active", "date_joined"]
    list_filter = ["role", "tenant", "is_temporary", "is_active"]
    list_select_related = ["tenant"]
    search_fields = ["email", "first_name", "last_name", "tenant__name", "tenant__schema_name"]
    readonly_fields = ["public_id", "date_joined", "last_login", "updated_at"]
    fields = [
        "email", "first_name", "last_name", "role", "tenant", "is_temporary", "is_active",
        "public_id", "date_joined", "last_login", "updated_at",
    ]  # fmt: skip
    change_password_form = AdminPasswordChangeForm
    # The masquerade lands where the target works, whatever the button asks for.
    hijack_success_url = "/masquerade/"

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        # The admin shows each operator the people its role reaches (sales: demo accounts).
        return user_list_for_host(viewer=request.user, tenant=platform_tenant())

    @admin.display(description="Role", ordering="role")
    def role_badge(self, obj: User) -> str:
        return role_badge(obj.role)
