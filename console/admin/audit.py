"""The audit trail in the admin: read-only, filterable by actor, tenant and action, and scoped
per role by ``access.selectors.audit_events_for`` (what each operator may read)."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from access.selectors import audit_events_for
from core.models import AuditEvent
from users.http import request_user


class ActionFilter(admin.SimpleListFilter):
    title = "action"
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        actions = (
            model_admin.get_queryset(request)
            .order_by("action")
            .values_list("action", flat=True)
            .distinct()
        )
        return [(action, action) for action in actions]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[AuditEvent]
    ) -> QuerySet[AuditEvent]:
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = [
        "occurred_at", "action", "actor_email", "target_email", "operator_email", "tenant_schema",
        "object_type", "object_id", "ip_address",
    ]  # fmt: skip
    # "Related only": a filter offers just the people and tenants of the events the viewer may
    # read, so the filter itself reveals nothing beyond them.
    list_filter = [
        ActionFilter,
        ("actor", admin.RelatedOnlyFieldListFilter),
        ("tenant", admin.RelatedOnlyFieldListFilter),
        ("operator", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["actor_email", "target_email", "operator_email", "object_id", "action"]
    date_hierarchy = "occurred_at"
    actions = None
    # A tuple: the same names serve as ``readonly_fields``, a list of plain names only.
    fields = (
        "public_id", "occurred_at", "action", "level", "actor_email", "actor_role",
        "target_email", "operator_email", "masquerade_id", "tenant_schema", "object_type",
        "object_id", "ip_address", "host", "request_method", "request_path", "request_id",
        "details_json",
    )  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditEvent]:
        return audit_events_for(viewer=request_user(request))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    @admin.display(description="Details")
    def details_json(self, event: AuditEvent) -> str:
        return format_html("<pre>{}</pre>", json.dumps(event.details, indent=2, sort_keys=True))
