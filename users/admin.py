from django.contrib import admin
from django.contrib.auth.forms import AdminPasswordChangeForm

from users.models import User


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ["email", "role", "tenant", "is_temporary", "is_active", "date_joined"]
    list_filter = ["role", "tenant", "is_temporary", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    readonly_fields = ["public_id", "date_joined", "last_login", "updated_at"]
    fields = [
        "email", "first_name", "last_name", "role", "tenant", "is_temporary", "is_active",
        "public_id", "date_joined", "last_login", "updated_at",
    ]  # fmt: skip
    change_password_form = AdminPasswordChangeForm
