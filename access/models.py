"""The records of access, in the public schema under the ``core`` app label (their tables and
migrations predate this package): permission grants and masquerade sessions."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.db import models, transaction
from django.db.models import F, Q
from django.http import HttpRequest

from access.policy import GRANTABLE_ACTIONS, grant_terms_check
from core import clock
from core.audit import security_event
from tenancy.models import Tenant
from users.models import User


class PermissionGrantQuerySet(models.QuerySet["PermissionGrant"]):
    def active(self, at: datetime | None = None) -> PermissionGrantQuerySet:
        """Grants in force at ``at`` (now): not revoked and not yet expired."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=at or clock.now())

    @transaction.atomic
    def revoke(
        self, *, revoked_by: User, reason: str = "", request: HttpRequest | None = None
    ) -> int:
        """Revoke every grant here still in force, each with its audit row in this transaction;
        return how many were revoked. (``access.grants.grants_revoke`` is the service callers
        use; the seed's records carry the write, like ``PermissionGrant.create_grant``.)"""
        now = clock.now()
        live = list(
            self.active(now).select_for_update(of=("self",)).select_related("grantee", "tenant")
        )
        for grant in live:
            grant.revoked_at, grant.revoked_by, grant.revoke_reason = now, revoked_by, reason
            grant.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
            security_event(
                "grant_revoked",
                request=request,
                actor=revoked_by,
                target=grant.grantee,
                subject=grant,
                tenant=grant.tenant,
                action=grant.action,
                grant_tenant=grant.tenant.schema_name if grant.tenant else None,
                reason=reason,
            )
        return len(live)


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
        app_label = "core"
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
        grantor: User,
        grantee: User,
        action: str,
        reason: str,
        duration_minutes: int = 30,
        tenant: Tenant | None = None,
        request: HttpRequest | None = None,
    ) -> PermissionGrant:
        """Grant ``grantee`` the ``action`` for ``duration_minutes`` (on ``tenant`` only, if given),
        audited in the same transaction. The seed's spelling; ``access.grants.grant_create`` is
        the service every caller uses. The rules are ``access.policy.grant_terms_check``."""
        terms = grant_terms_check(
            grantor=grantor,
            grantee=grantee,
            action=action,
            reason=reason,
            duration_minutes=duration_minutes,
            tenant=tenant,
        )
        now = clock.now()
        with transaction.atomic():
            grant = cls.objects.create(
                grantor=grantor,
                grantee=grantee,
                action=action,
                tenant=tenant,
                reason=terms.reason,
                created_at=now,
                expires_at=now + timedelta(minutes=terms.minutes),
            )
            security_event(
                "grant_created",
                request=request,
                actor=grantor,
                target=grantee,
                subject=grant,
                tenant=tenant,
                action=action,
                grant_tenant=tenant.schema_name if tenant else None,
                expires_at=grant.expires_at.isoformat(),
                reason=terms.reason,
            )
        return grant

    def is_active(self, at: datetime | None = None) -> bool:
        return self.revoked_at is None and (at or clock.now()) < self.expires_at

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "REVOKED"
        return "ACTIVE" if self.is_active() else "EXPIRED"

    def revoke(
        self, *, revoked_by: User, reason: str = "", request: HttpRequest | None = None
    ) -> bool:
        """Revoke this grant; False when it had already expired or been revoked."""
        count = (
            type(self)
            .objects.filter(pk=self.pk)
            .revoke(revoked_by=revoked_by, reason=reason, request=request)
        )
        self.refresh_from_db()
        return count == 1


class MasqueradeSession(models.Model):
    """One masquerade, from its start to its end: who became whom, why, through which door and
    until when. A privileged session is its own short-lived record (Sentry's superuser session
    reads the same way); sessions and tokens that carry it die with it."""

    class Channel(models.TextChoices):
        ADMIN = "ADMIN", "Admin (browser session)"
        API = "API", "API (masquerade token)"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    hijacker = models.ForeignKey(
        "users.User", on_delete=models.PROTECT, related_name="masquerades_started"
    )
    hijacked = models.ForeignKey(
        "users.User", on_delete=models.PROTECT, related_name="masquerades_suffered"
    )
    tenant = models.ForeignKey(
        "core.Tenant", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    reason = models.TextField(blank=True, default="")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True, default="")
    started_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=32, blank=True, default="")
    # Never the session key or token itself (a usable credential): its keyed fingerprint
    # (access.masquerade.records.session_fingerprint), which ties log lines to one session.
    session_digest = models.CharField(max_length=64, blank=True, default="")
    # Admin hand-off to the tenant's host: only a digest of the one-time ticket is stored.
    handoff_digest = models.CharField(max_length=64, null=True, blank=True, unique=True)
    handoff_host = models.CharField(max_length=253, blank=True, default="")
    handoff_expires_at = models.DateTimeField(null=True, blank=True)
    handoff_used_at = models.DateTimeField(null=True, blank=True)
    return_url = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        app_label = "core"
        ordering = ["-started_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(hijacker=F("hijacked")), name="masquerade_not_self"
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("started_at")), name="masquerade_expires_after_start"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=["ADMIN", "API"]), name="masquerade_channel_valid"
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | ~Q(end_reason=""),
                name="masquerade_end_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.hijacker_id} as {self.hijacked_id} ({self.channel})"

    def is_live(self, at) -> bool:
        return self.ended_at is None and at < self.expires_at
