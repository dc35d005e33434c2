"""Free start times of a service; for a group service, with the seats left in each session.

Two shapes (``?shape=``): ``slots``, one object per free start (the original, kept as the
default), and ``compact``, the starts grouped by the resources they would hold as runs on the
step grid. Both answer with an ``ETag`` (a digest of the body) and ``304 Not Modified`` to a
matching ``If-None-Match``, and gzip-compressed to clients that accept it.

Compression and BREACH: BREACH recovers a secret from the size of compressed responses that
also reflect attacker-chosen input. An availability body holds no secret (service and resource
ids, names, times: what every user who may ask already sees) and no credential or CSRF token, so
there is nothing to recover; compression is therefore applied to this view only, never globally
(token, session and webhook-secret answers stay uncompressed).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.http import HttpResponseNotModified
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.decorators import method_decorator
from django.utils.http import parse_etags
from django.views.decorators.gzip import gzip_page
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from appointments import permissions
from appointments.api.serializers import (
    AvailabilityQuerySerializer,
    AvailabilitySerializer,
    CompactAvailabilitySerializer,
)
from appointments.availability import from_epoch, slot_groups, to_epoch
from appointments.selectors import MAX_RANGE_DAYS, Availability, availability_for, open_sessions
from catalog.models import Service
from core.api.openapi import error_response
from tenancy.http import request_tenant

RESOURCE_ID = "0b9f6a4e-2c1d-4c55-9a43-0f6f1e2d3c4b"
SLOTS_EXAMPLE = OpenApiExample(
    "shape=slots: two free starts",
    value={
        "service": "5d7a1c9e-8f2b-4d3a-b6c5-1e0f9a8b7c6d",
        "timezone": "Europe/Berlin",
        "slots": [
            {
                "starts_at": "2026-05-04T09:00:00+02:00",
                "ends_at": "2026-05-04T10:00:00+02:00",
                "resources": [{"id": RESOURCE_ID, "name": "Ana", "type": "STAFF"}],
                "seats_left": 1,
                "session": None,
            },
            {
                "starts_at": "2026-05-04T09:15:00+02:00",
                "ends_at": "2026-05-04T10:15:00+02:00",
                "resources": [{"id": RESOURCE_ID, "name": "Ana", "type": "STAFF"}],
                "seats_left": 1,
                "session": None,
            },
        ],
        "closures": [],
    },
    response_only=True,
)
COMPACT_EXAMPLE = OpenApiExample(
    "shape=compact: 09:00 to 11:45 every 15 minutes with Ana",
    value={
        "service": "5d7a1c9e-8f2b-4d3a-b6c5-1e0f9a8b7c6d",
        "timezone": "Europe/Berlin",
        "shape": "compact",
        "step_minutes": 15,
        "resources": [{"id": RESOURCE_ID, "name": "Ana", "type": "STAFF"}],
        "groups": [
            {
                "resources": [0],
                "duration_minutes": 60,
                "runs": [{"first": "2026-05-04T09:00:00+02:00", "count": 12}],
            }
        ],
        "closures": [
            {
                "title": "Public holiday",
                "starts_at": "2026-05-05T00:00:00+02:00",
                "ends_at": "2026-05-06T00:00:00+02:00",
            }
        ],
    },
    response_only=True,
)


def _sessions(*, service: Service, values: dict[str, Any], tz: ZoneInfo) -> dict[int, dict]:
    """The open sessions of a group service in the range, by start (issue 13). A start with a
    session is that session's seats or nothing: a second session cannot open there."""
    if not service.is_group:
        return {}
    now = timezone.now()
    lo = max(
        datetime.combine(values["start"], time(0), tzinfo=tz),
        now + timedelta(minutes=service.min_notice_minutes),
    )
    hi = datetime.combine(values["end"] + timedelta(days=1), time(0), tzinfo=tz)
    return {
        to_epoch(session.starts_at): {
            "starts_at": session.starts_at.astimezone(tz).isoformat(),
            "ends_at": session.ends_at.astimezone(tz).isoformat(),
            "resources": [
                {"id": str(a.resource.public_id), "name": a.resource.name, "type": a.resource.type}
                for a in session.allocations.all()
            ],
            "seats_left": session.capacity - session.seats_taken,
            "session": str(session.public_id),
        }
        for session in open_sessions(service=service, lo=lo, hi=hi)
    }


def _described(result: Availability) -> dict[int, dict[str, str]]:
    return {
        pk: {"id": str(r.public_id), "name": r.name, "type": r.type}
        for pk, r in result.resources.items()
    }


def _local(seconds: int, tz: ZoneInfo) -> str:
    return from_epoch(seconds).astimezone(tz).isoformat()


def _closures(result: Availability, tz: ZoneInfo) -> list[dict[str, str]]:
    return [
        {
            "title": c.title,
            "starts_at": c.starts_at.astimezone(tz).isoformat(),
            "ends_at": c.ends_at.astimezone(tz).isoformat(),
        }
        for c in result.closures
    ]


def slots_shape(
    result: Availability, tz: ZoneInfo, sessions: dict[int, dict[str, Any]] | None = None
) -> dict[str, Any]:
    sessions = sessions or {}
    described = _described(result)
    service = result.service
    slots: list[dict[str, Any]] = [
        {
            "starts_at": _local(slot.start, tz),
            "ends_at": _local(slot.end, tz),
            "resources": [described[pk] for pk in slot.resource_ids],
            "seats_left": service.capacity,
            "session": None,
        }
        for slot in result.slots
        if slot.start not in sessions
    ]
    with_seats = [s for s in sessions.values() if s["seats_left"] > 0]
    if with_seats:  # a group service's open sessions: their seats left, their resources
        slots = sorted([*slots, *with_seats], key=lambda slot: slot["starts_at"])
    return {
        "service": str(service.public_id),
        "timezone": str(tz),
        "slots": slots,
        "closures": _closures(result, tz),
    }


def compact_shape(
    result: Availability,
    tz: ZoneInfo,
    step_minutes: int,
    sessions: dict[int, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Starts where a group session is already open are left to that session: the compact shape
    lists the starts where a new booking (a new session) may begin."""
    free = [slot for slot in result.slots if slot.start not in (sessions or {})]
    groups = slot_groups(free, step=step_minutes * 60)
    used = sorted({pk for group in groups for pk in group.resource_ids})
    index = {pk: i for i, pk in enumerate(used)}
    described = _described(result)
    return {
        "service": str(result.service.public_id),
        "timezone": str(tz),
        "shape": "compact",
        "step_minutes": step_minutes,
        "resources": [described[pk] for pk in used],
        "groups": [
            {
                "resources": [index[pk] for pk in group.resource_ids],
                "duration_minutes": group.duration // 60,
                "runs": [{"first": _local(first, tz), "count": n} for first, n in group.runs],
            }
            for group in groups
        ],
        "closures": _closures(result, tz),
    }


@method_decorator(gzip_page, name="dispatch")
class AvailabilityView(APIView):
    """Free start times of a service over a date range, with the resources each would use."""

    permission_classes = permissions.AVAILABILITY_PERMISSIONS

    @extend_schema(
        tags=["availability"],
        parameters=[AvailabilityQuerySerializer],
        responses={
            200: OpenApiResponse(
                PolymorphicProxySerializer(
                    component_name="AvailabilityAnswer",
                    serializers=[AvailabilitySerializer, CompactAvailabilitySerializer],
                    resource_type_field_name=None,
                ),
                description="The free starts, in the shape asked for (`shape`). Carries an "
                "`ETag`; gzip-compressed for clients sending `Accept-Encoding: gzip`.",
                examples=[SLOTS_EXAMPLE, COMPACT_EXAMPLE],
            ),
            304: OpenApiResponse(
                description="Not modified: `If-None-Match` names the `ETag` of the same answer."
            ),
            400: error_response(
                "Field errors (`invalid`): an inactive or unknown service, a range that is "
                f"reversed or longer than {MAX_RANGE_DAYS} days, an unknown timezone, step or "
                "shape."
            ),
        },
    )
    def get(self, request: Request) -> Response:
        query = AvailabilityQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        values = query.validated_data
        tz = ZoneInfo(values.get("timezone") or request_tenant(request).timezone)
        result = availability_for(
            service=values["service"], date_from=values["start"], date_to=values["end"], tz=tz,
            now=timezone.now(), step_minutes=values["step_minutes"],
        )  # fmt: skip
        sessions = _sessions(service=values["service"], values=values, tz=tz)
        if values["shape"] == "compact":
            return Response(compact_shape(result, tz, values["step_minutes"], sessions))
        return Response(slots_shape(result, tz, sessions))

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        """Render now (compression needs the bytes), tag a 200 with the digest of its body and
        answer 304 when the client already holds it. The tag covers the body only; both shapes
        and every query differ in their bodies, so they never share a tag."""
        response = super().finalize_response(request, response, *args, **kwargs)
        response.render()
        if response.status_code != 200:
            return response
        tag = f'"{hashlib.blake2b(response.content, digest_size=16).hexdigest()}"'
        response["ETag"] = tag
        # Revalidate every time: free times change with every booking.
        patch_cache_control(response, private=True, no_cache=True)
        # Weak comparison (RFC 9110 13.1.2): gzip turns the tag sent with a body into W/"...".
        held = {t.removeprefix("W/") for t in parse_etags(request.headers.get("If-None-Match", ""))}
        if tag in held or "*" in held:
            not_modified = HttpResponseNotModified()
            for header in ("ETag", "Cache-Control", "Vary"):
                if header in response:
                    not_modified[header] = response[header]
            return not_modified
        return response
