import uuid
from typing import ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from users import roles
from users.roles import Role


def role_tenant_error(role: str, has_tenant: bool) -> str | None:
    """The sentence a user with this role/tenant pair is refused with, or None when it is fine."""
    if role in roles.TENANT_ROLES and not has_tenant:
        return f"Users with role {role} must be assigned to a tenant"
    if role in roles.PLATFORM_ROLES and has_tenant:
        return f"Users with role {role} cannot be assigned to a tenant"
    return None


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> "User":
        return self.get(email__iexact=username)

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields["role"] = Role.SUPERUSER
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser):
    """A person. Lives in the public schema; tenant roles belong to exactly one tenant."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(max_length=254, unique=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=32, choices=Role.choices)
    tenant = models.ForeignKey(
        "core.Tenant", null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    is_temporary = models.BooleanField(
        default=False, help_text="Demo account: PLATFORM_SALES may reach it and its tenant."
    )
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="users_email_ci_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=[r.value for r in Role]), name="users_role_valid"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(role__in=sorted(roles.TENANT_ROLES), tenant__isnull=False)
                    | models.Q(role__in=sorted(roles.PLATFORM_ROLES), tenant__isnull=True)
                ),
                name="users_role_tenant_consistent",
                violation_error_message="This role and tenant do not go together.",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()
        error = role_tenant_error(self.role, self.tenant_id is not None)
        if error:
            raise ValidationError({"tenant": error})

    def save(self, *args, **kwargs) -> None:
        self.email = (self.email or "").strip().lower()
        error = role_tenant_error(self.role, self.tenant_id is not None)
        if error:
            raise ValidationError(error)
        super().save(*args, **kwargs)

    @property
    def is_platform_user(self) -> bool:
        return self.role in roles.PLATFORM_ROLES

    # The Django admin and django-hijack read these; both follow from the role.
    @property
    def is_staff(self) -> bool:
        return self.is_platform_user

    @property
    def is_superuser(self) -> bool:
        return self.role == Role.SUPERUSER

    def has_perm(self, perm: str, obj: object = None) -> bool:
        return self.is_active and roles.admin_permits(
            role=self.role, codename=perm.split(".", 1)[-1]
        )

    def has_perms(self, perm_list, obj: object = None) -> bool:
        return all(self.has_perm(perm, obj) for perm in perm_list)

    def has_module_perms(self, app_label: str) -> bool:
        return self.is_active and self.is_staff
