import uuid
from typing import Any, NoReturn

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class AppendOnlyError(Exception):
    """Audit events are facts: once written they are never changed or removed."""


def _refuse(operation: str) -> NoReturn:
    raise AppendOnlyError(f"Audit events are append-only: {operation} is refused.")


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> NoReturn:
        _refuse("update")

    def delete(self) -> NoReturn:
        _refuse("delete")

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> NoReturn:
        _refuse("bulk_update")


def _loose_link(model: str) -> models.ForeignKey:
    """A link that never constrains what it points at: the record must outlive a deleted user or
    tenant (its e-mail or schema snapshot keeps it readable), and must never be changed by one
    (SET_NULL would be an UPDATE, which the table refuses)."""
    return models.ForeignKey(
        model,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # the composite (link, time) indexes of the Meta serve its lookups
        related_name="+",
    )


class AuditEvent(models.Model):
    """One security-relevant fact: who (``actor``) did what (``action``) to whom (``target``) or
    to which record (``object_type``/``object_id``), where and when; during a masquerade also the
    real person behind the actor (``operator``). Written by ``core.audit.security_event`` in the
    transaction of the change it records, and append-only down to the database (a trigger refuses
    UPDATE and DELETE)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    occurred_at = models.DateTimeField()
    action = models.CharField(max_length=64)
    level = models.CharField(max_length=8, default="INFO")

    actor = _loose_link("users.User")
    actor_email = models.CharField(max_length=254, blank=True, default="")
    actor_role = models.CharField(max_length=32, blank=True, default="")
    target = _loose_link("users.User")
    target_email = models.CharField(max_length=254, blank=True, default="")
    operator = _loose_link("users.User")
    operator_email = models.CharField(max_length=254, blank=True, default="")
    masquerade_id = models.UUIDField(null=True, blank=True)

    tenant = _loose_link("core.Tenant")
    tenant_schema = models.CharField(max_length=63, blank=True, default="")
    object_type = models.CharField(max_length=100, blank=True, default="")
    object_id = models.CharField(max_length=64, blank=True, default="")

    ip_address = models.GenericIPAddressField(null=True, blank=True)
    host = models.CharField(max_length=253, blank=True, default="")
    request_id = models.UUIDField(null=True, blank=True)
    request_method = models.CharField(max_length=10, blank=True, default="")
    request_path = models.TextField(blank=True, default="")
    details = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["-occurred_at"], name="audit_time"),
            models.Index(fields=["actor", "-occurred_at"], name="audit_actor_time"),
            models.Index(fields=["target", "-occurred_at"], name="audit_target_time"),
            models.Index(fields=["tenant", "-occurred_at"], name="audit_tenant_time"),
            models.Index(fields=["action", "-occurred_at"], name="audit_action_time"),
        ]

    def __str__(self) -> str:
        who = self.actor_email or "system"
        return f"{self.action} by {who} at {self.occurred_at:%Y-%m-%d %H:%M:%S}Z"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            _refuse("changing a saved event")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("delete")


class MasqueradeLogBacklog(models.Model):
    """Masquerade events whose ``masquerade.log`` line could not be written yet (the file was
    unwritable). Ending a masquerade never waits for the file: the event is in the table, and its
    line is appended when the file is back (``access.masquerade.records.masquerade_log_replay``)."""

    event = models.OneToOneField(
        AuditEvent, primary_key=True, on_delete=models.DO_NOTHING, related_name="+"
    )
    failed_at = models.DateTimeField()
    error = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        ordering = ["event_id"]

    def __str__(self) -> str:
        return f"masquerade.log line of event {self.event_id} pending since {self.failed_at}"
