import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models
from django.db.models import F, Q

from core import clock
from users.roles import Role


@dataclass(frozen=True)
class GrantableAction:
    """One thing that may be granted for a while: why one would, and which roles may receive it
    (users.access checks it at creation and again at every use)."""

    description: str
    grantee_roles: frozenset[str]

    def __str__(self) -> str:
        return self.description


# Each name is a tenant capability of users.roles; a grant adds it on tenant hosts its grantee
# already reaches (never a new host). Nobody receives what its role already holds everywhere it
# reaches (owners, SUPERUSER, PLATFORM_MANAGER, PLATFORM_SALES on its demo tenants), and a
# CUSTOMER never receives anything: a grant lifts a business's people or the platform's support
# for a task, never a customer into the business's records.
GRANTABLE_ACTIONS: dict[str, GrantableAction] = {
    "view_billing": GrantableAction(
        "Read a tenant's billing and subscription (support answering a billing query).",
        frozenset({Role.PLATFORM_SUPPORT, Role.TENANT_MANAGER}),
    ),
    "manage_billing": GrantableAction(
        "Change a tenant's billing records.",
        frozenset({Role.PLATFORM_SUPPORT, Role.TENANT_MANAGER}),
    ),
    "manage_settings": GrantableAction(
        "Change a tenant's settings and policies.",
        frozenset({Role.PLATFORM_SUPPORT, Role.TENANT_MANAGER}),
    ),
    "view_customers": GrantableAction(
        "Read a tenant's customers.", frozenset({Role.PLATFORM_SUPPORT, Role.TENANT_STAFF})
    ),
    "manage_customers": GrantableAction(
        "Change a tenant's customers.", frozenset({Role.PLATFORM_SUPPORT, Role.TENANT_STAFF})
    ),
    "manage_plugins": GrantableAction(
        "Install, configure and remove a tenant's plugins.",
        frozenset({Role.PLATFORM_SUPPORT, Role.TENANT_STAFF}),
    ),
}


class PermissionGrantQuerySet(models.QuerySet):
    def active(self, at: datetime | None = None) -> "PermissionGrantQuerySet":
        """Grants in force at ``at`` (now): not revoked and not yet expired."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=at or clock.now())

    def revoke(self, *, revoked_by: Any, reason: str = "", request: Any = None) -> int:
        """Revoke every still-active grant here; each revocation gets its own audit line."""
        from core.grants import grants_revoke

        return grants_revoke(grants=self, revoked_by=revoked_by, reason=reason, request=request)


class PermissionGrant(models.Model):
    """A time-limited elevation: ``grantee`` may do ``action`` (on ``tenant``, or on every tenant
    it reaches when blank) until ``expires_at``, unless revoked first. Expiry is checked at each
    decision, so no job has to switch a grant off."""

    GRANTABLE_ACTIONS = GRANTABLE_ACTIONS

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    grantor = models.ForeignKey("users.User", on_delete=models.PROTECT, related_name="grants_given")
    grantee = models.ForeignKey(
        "users.User", on_delete=models.PROTECT, related_name="grants_received"
    )
    action = models.CharField(max_length=64, choices=[(a, a) for a in GRANTABLE_ACTIONS])
    tenant = models.ForeignKey(
        "core.Tenant",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The one tenant this grant applies to; blank: every tenant the grantee reaches.",
    )
    reason = models.TextField()
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        "users.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoke_reason = models.TextField(blank=True, default="")

    objects = PermissionGrantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["grantee", "expires_at"], name="grant_grantee_expiry")]
        constraints = [
            models.CheckConstraint(condition=~Q(grantor=F("grantee")), name="grant_not_self"),
            models.CheckConstraint(condition=~Q(reason__regex=r"^\s*$"), name="grant_has_reason"),
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("created_at")), name="grant_expires_after_creation"
            ),
            models.CheckConstraint(
                condition=Q(action__in=sorted(GRANTABLE_ACTIONS)), name="grant_action_grantable"
            ),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | Q(revoked_at__gte=F("created_at")),
                name="grant_revoked_after_creation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} for {self.grantee_id} until {self.expires_at:%Y-%m-%d %H:%M}Z"

    @classmethod
    def create_grant(
        cls,
        *,
        grantor: Any,
        grantee: Any,
        action: str,
        reason: str,
        duration_minutes: int = 30,
        tenant: Any = None,
        request: Any = None,
    ) -> "PermissionGrant":
        """The seed's spelling of ``core.grants.grant_create``."""
        from core.grants import grant_create

        return grant_create(
            grantor=grantor,
            grantee=grantee,
            action=action,
            reason=reason,
            duration_minutes=duration_minutes,
            tenant=tenant,
            request=request,
        )

    def is_active(self, at: datetime | None = None) -> bool:
        return self.revoked_at is None and (at or clock.now()) < self.expires_at

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "REVOKED"
        return "ACTIVE" if self.is_active() else "EXPIRED"

    def revoke(self, *, revoked_by: Any, reason: str = "", request: Any = None) -> bool:
        """Revoke this grant; False when it had already expired or been revoked."""
        from core.grants import grants_revoke

        count = grants_revoke(
            grants=PermissionGrant.objects.filter(pk=self.pk),
            revoked_by=revoked_by,
            reason=reason,
            request=request,
        )
        self.refresh_from_db()
        return count == 1
