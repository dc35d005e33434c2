"""The outbox in the admin: events, deliveries (the delivery log, with redelivery) and the
index of due jobs. Facts, not forms: read-only apart from the redeliver action. Each operator
sees the rows of the tenants whose delivery log it may read through the API
(``notifications.selectors``)."""

from __future__ import annotations

import json
import re
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from core.admin_kit import ReadOnlyAdmin
from core.exceptions import DomainError
from notifications.models import Delivery, DueJob, OutboxEvent
from notifications.selectors import deliveries_for, due_jobs_for, outbox_events_for
from notifications.services import delivery_redeliver
from users.http import request_user
from users.roles import Role

# What ModelAdmin.get_fields returns: field names, or groups of them shown on one line.
FieldGroups = list[str | list[str] | tuple[str, ...] | tuple[()]]


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    list_display = ["kind", "tenant", "plugin", "occurred_at", "dispatched_at", "attempts"]
    list_filter = ["kind", "plugin"]
    search_fields = ["public_id", "tenant__schema_name"]
    list_select_related = ["tenant"]
    date_hierarchy = "occurred_at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[OutboxEvent]:
        return outbox_events_for(viewer=request_user(request))


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "plugin", "channel", "recipient", "status", "attempts", "response_status", "latency_ms",
        "tenant", "created_at", "sent_at",
    ]  # fmt: skip
    list_filter = ["status", "channel", "plugin"]
    search_fields = ["recipient", "public_id", "tenant__schema_name"]
    list_select_related = ["tenant"]
    actions = ["redeliver"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Delivery]:
        return deliveries_for(viewer=request_user(request))

    def get_fields(self, request: HttpRequest, obj: Delivery | None = None) -> FieldGroups:
        # The message holds customers' signed links (review, unsubscribe): credentials anyone
        # reading the page could use. Only SUPERUSER sees it whole; others see it without them.
        fields = [f for f in super().get_fields(request, obj) if f != "message_redacted"]
        if _sees_links(request):
            return fields
        return [("message_redacted" if f == "message" else f) for f in fields]

    def get_readonly_fields(self, request: HttpRequest, obj: Delivery | None = None) -> list[str]:
        return [*super().get_readonly_fields(request, obj), "message_redacted"]

    @admin.display(description="message (links removed)")
    def message_redacted(self, obj: Delivery) -> str:
        return message_without_links(obj.message)

    @admin.action(description="Redeliver selected deliveries", permissions=["change"])
    def redeliver(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        queued = 0
        for delivery in queryset:
            try:
                delivery_redeliver(delivery=delivery, actor=request_user(request), request=request)
            except DomainError as error:
                self.message_user(request, f"{delivery}: {error}", messages.WARNING)
                continue
            queued += 1
        self.message_user(request, f"{queued} queued again.", messages.SUCCESS)

    def has_change_permission(self, request: HttpRequest, obj: Delivery | None = None) -> bool:
        # Only the redeliver action uses it (the change form stays read-only: no field edits).
        return obj is None and request.user.has_perm("notifications.change_delivery")


def _sees_links(request: HttpRequest) -> bool:
    return getattr(request.user, "role", None) == Role.SUPERUSER


_LINK = re.compile(r"(https?://[^/\s\"'<>]+)/[^\s\"'<>]*")


def message_without_links(message: Any) -> str:
    """The stored message as JSON with every link cut to its host (tokens are in the paths)."""
    return _LINK.sub(r"\1/[link removed]", json.dumps(message, indent=2, ensure_ascii=False))


@admin.register(DueJob)
class DueJobAdmin(ReadOnlyAdmin):
    list_display = ["kind", "key", "tenant", "plugin", "due_at"]
    list_filter = ["kind", "plugin"]
    search_fields = ["key", "tenant__schema_name"]
    list_select_related = ["tenant"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[DueJob]:
        return due_jobs_for(viewer=request_user(request))
