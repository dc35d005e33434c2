"""People in the admin: created and changed through users.services, as over the API."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import admin as _auth_admin  # noqa: F401 (registers Group first)
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from hijack.contrib.admin import HijackUserAdminMixin
from rest_framework_simplejwt.token_blacklist import admin as _token_blacklist_admin  # noqa: F401 (registers first)
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from console.admin.service_forms import service_form_for
from core.admin_kit import ServiceForm, badge
from core.exceptions import DomainError
from tenancy.selectors import platform_tenant
from users import services
from users.http import request_user
from users.models import User
from users.roles import Role, may_administer, may_assign_role
from users.selectors import user_list_for_host

# Access follows roles (users/roles.py); Django's groups and permissions are not used. Importing
# django.contrib.auth's admin first registers its Group page, which this takes away again.
admin.site.unregister(Group)
# Refresh-token records are bookkeeping of sign-in (users/tokens.py): they end through a password
# change, a deactivation or sign-out, never by an operator browsing every user's token ids.
admin.site.unregister(OutstandingToken)
admin.site.unregister(BlacklistedToken)

# One colour per role, darkest for the most powerful.
ROLE_COLOURS: dict[str, str] = {
    Role.SUPERUSER: "#7f1d1d",
    Role.PLATFORM_MANAGER: "#b91c1c",
    Role.PLATFORM_SALES: "#c2410c",
    Role.PLATFORM_SUPPORT: "#a16207",
    Role.TENANT_OWNER: "#1d4ed8",
    Role.TENANT_MANAGER: "#0369a1",
    Role.TENANT_STAFF: "#047857",
    Role.CUSTOMER: "#4b5563",
}
PROFILE_FIELDS = ["email", "first_name", "last_name"]
# What nobody changes on its own account: who it is allowed to be.
OWN_ACCOUNT_READONLY = ["role", "tenant", "is_temporary", "is_active"]


def role_badge(role: str) -> str:
    label = Role(role).label if role in Role.values else role
    return badge(kind="role", value=role, label=label, colour=ROLE_COLOURS.get(role))


def administers(actor: User, user: User) -> bool:
    """Whether ``actor`` may change ``user``'s account (users.services decides the same)."""
    return actor.pk != user.pk and may_administer(
        actor_role=actor.role,
        actor_tenant_id=actor.tenant_id,
        role=user.role,
        tenant_id=user.tenant_id,
    )


class _UserForm(ServiceForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if isinstance(role_field := self.fields.get("role"), forms.ChoiceField):
            # Only the roles the operator may hand out are offered (services check it again).
            actor_role = request_user(self.request).role
            role_field.choices = [
                (role.value, role.label)
                for role in Role
                if may_assign_role(actor_role=actor_role, target_role=role)
            ]


class UserAddForm(_UserForm):
    password1 = forms.CharField(label="Password", strip=False, widget=forms.PasswordInput)
    password2 = forms.CharField(label="Password again", strip=False, widget=forms.PasswordInput)

    class Meta:
        model = User
        fields = [*PROFILE_FIELDS, "role", "tenant", "is_temporary"]

    def clean_password2(self) -> str | None:
        first, second = self.cleaned_data.get("password1"), self.cleaned_data.get("password2")
        if first and second and first != second:
            raise forms.ValidationError("The two passwords differ.")
        return second

    def apply(self) -> User:
        data = self.cleaned_data
        return services.user_create(
            actor=request_user(self.request),
            request=self.request,
            password=data["password1"],
            **{field: data[field] for field in [*PROFILE_FIELDS, "role", "tenant", "is_temporary"]},
        )


class UserChangeForm(_UserForm):
    """Each kind of change goes to its own service, each audited: the profile (user_update),
    the role and tenant (user_change_role), switching the account off or on."""

    class Meta:
        model = User
        fields = [*PROFILE_FIELDS, "role", "tenant", "is_temporary", "is_active"]

    def apply(self) -> User:
        actor, request, data = request_user(self.request), self.request, self.cleaned_data
        user = User.objects.select_related("tenant").get(pk=self.instance.pk)
        changed = set(self.changed_data)
        profile = {f: data[f] for f in [*PROFILE_FIELDS, "is_temporary"] if f in changed}
        if profile:
            user = services.user_update(actor=actor, user=user, request=request, **profile)
        if changed & {"role", "tenant"}:
            user = services.user_change_role(
                actor=actor, user=user, role=data["role"], tenant=data["tenant"], request=request
            )
        if "is_active" in changed:
            switch = services.user_reactivate if data["is_active"] else services.user_deactivate
            user = switch(actor=actor, user=user, request=request)
        return user


@admin.register(User)
class UserAdmin(HijackUserAdminMixin, admin.ModelAdmin):
    """Operators' view of people. The impersonate button (django-hijack) appears on a row only
    where access.masquerade.rules.may_masquerade allows it for the signed-in operator. Every change
    goes through users.services, as over the API: roles offered are those the operator may
    assign, accounts above its own are read-only, its own role and activity are not its to
    change, and accounts are switched off, never deleted."""

    list_display = ["email", "role_badge", "tenant", "is_temporary", "is_active", "date_joined"]
    list_filter = [
        "role", ("tenant", admin.RelatedOnlyFieldListFilter), "is_temporary", "is_active",
    ]  # fmt: skip
    list_select_related = ["tenant"]
    search_fields = ["email", "first_name", "last_name", "tenant__name", "tenant__schema_name"]
    readonly_fields = ["public_id", "password_link", "date_joined", "last_login", "updated_at"]
    actions = ["deactivate_selected", "reactivate_selected"]
    # The masquerade lands where the target works, whatever the button asks for.
    hijack_success_url = "/masquerade/"

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        # The admin shows each operator the people its role reaches (sales: demo accounts).
        return user_list_for_host(viewer=request_user(request), tenant=platform_tenant())

    def get_fields(self, request: HttpRequest, obj: User | None = None) -> tuple[str, ...]:
        if obj is None:
            return (*PROFILE_FIELDS, "role", "tenant", "is_temporary", "password1", "password2")
        return (*UserChangeForm.Meta.fields, *self.readonly_fields)

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> list[str]:
        if obj is None:
            return []
        if obj.pk == request.user.pk:
            return [*OWN_ACCOUNT_READONLY, *self.readonly_fields]
        return self.readonly_fields

    def get_form(
        self, request: HttpRequest, obj: User | None = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm[Any]]:
        kwargs["form"] = UserAddForm if obj is None else UserChangeForm
        return service_form_for(super().get_form(request, obj, change, **kwargs), request)

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        if not super().has_change_permission(request, obj):
            return False
        actor = request_user(request)
        return obj is None or obj.pk == actor.pk or administers(actor, obj)

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        # Accounts carry the audit trail's names: they are deactivated, never deleted.
        return False

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        """users.services saved (and audited) it while the form was validated."""

    @admin.display(description="Role", ordering="role")
    def role_badge(self, obj: User) -> str:
        return role_badge(obj.role)

    @admin.display(description="Password")
    def password_link(self, obj: User) -> str:
        if obj.pk is None:
            return "—"
        url = reverse("admin:users_user_password_change", args=[obj.pk])
        return format_html('<a href="{}">Set a new password</a>', url)

    def _switch_all(self, request: HttpRequest, queryset: QuerySet[User], active: bool) -> None:
        switch = services.user_reactivate if active else services.user_deactivate
        done = 0
        for user in queryset:
            try:
                switch(actor=request_user(request), user=user, request=request)
                done += 1
            except DomainError as error:
                self.message_user(request, f"Skipped {user.email}: {error.message}", messages.ERROR)
        verb = "Reactivated" if active else "Deactivated"
        self.message_user(request, f"{verb} {done} account(s).", messages.SUCCESS)

    @admin.action(description="Deactivate selected accounts", permissions=["change"])
    def deactivate_selected(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._switch_all(request, queryset, active=False)

    @admin.action(description="Reactivate selected accounts", permissions=["change"])
    def reactivate_selected(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._switch_all(request, queryset, active=True)

    def get_urls(self) -> list:
        return [
            path(
                "<id>/password/",
                self.admin_site.admin_view(self.user_password_view),
                name="users_user_password_change",
            ),
            *super().get_urls(),
        ]

    def user_password_view(self, request: HttpRequest, id: str) -> HttpResponse:
        """Set another account's password (users.services.user_password_set). One's own
        password is changed at "Change password", which asks for the current one."""
        user = self.get_object(request, unquote(id))
        if user is None:
            raise Http404("No such user.")
        if not self.has_change_permission(request, user) or user.pk == request.user.pk:
            raise PermissionDenied
        form = SetPasswordForm(user, request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.user_password_set(
                    actor=request_user(request),
                    user=user,
                    password=form.cleaned_data["new_password1"],
                    request=request,
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                self.log_change(request, user, "Set a new password.")
                self.message_user(request, f"New password set for {user.email}.")
                return HttpResponseRedirect(reverse("admin:users_user_change", args=[user.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Set a new password: {user.email}",
            "form": form,
            "original": user,
            "opts": self.opts,
        }
        return TemplateResponse(request, "admin/users/user/set_password.html", context)
