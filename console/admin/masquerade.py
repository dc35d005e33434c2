"""Masquerade sessions in the admin: read-only facts."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from access.models import MasqueradeSession
from access.selectors import masquerade_list_for
from core import clock
from core.admin_kit import ReadOnlyAdmin, status_badge
from users.http import request_user


@admin.register(MasqueradeSession)
class MasqueradeSessionAdmin(ReadOnlyAdmin):
    list_display = [
        "started_at", "hijacker", "hijacked", "tenant", "channel", "state", "expires_at",
        "ended_at", "end_reason", "reason",
    ]  # fmt: skip
    list_filter = ["channel", "end_reason", ("tenant", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["hijacker__email", "hijacked__email", "reason"]
    # Fingerprints of a session and of a hand-off ticket: no use to a reader, and kept out of
    # sight so nobody mistakes them for credentials.
    exclude = ["session_digest", "handoff_digest"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[MasqueradeSession]:
        return masquerade_list_for(viewer=request_user(request))

    @admin.display(description="State")
    def state(self, obj: MasqueradeSession) -> str:
        if obj.ended_at is not None:
            return status_badge("EXPIRED" if obj.end_reason == "expired" else "ENDED")
        return status_badge("ACTIVE" if obj.is_live(clock.now()) else "EXPIRED")
