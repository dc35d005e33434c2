"""Free start times of a service; for a group service, with the seats left in each session."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from appointments import permissions
from appointments.api.serializers import AvailabilityQuerySerializer, AvailabilitySerializer
from appointments.availability import from_epoch, to_epoch
from appointments.selectors import MAX_RANGE_DAYS, availability_for, open_sessions
from catalog.models import Service
from core.api.openapi import error_response


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


class AvailabilityView(APIView):
    """Free start times of a service over a date range, with the resources each would use."""

    permission_classes = permissions.AVAILABILITY_PERMISSIONS

    @extend_schema(
        tags=["availability"],
        parameters=[AvailabilityQuerySerializer],
        responses={
            200: AvailabilitySerializer,
            400: error_response(
                "Field errors (`invalid`): an inactive or unknown service, a range that is "
                f"reversed or longer than {MAX_RANGE_DAYS} days, an unknown timezone or step."
            ),
        },
        examples=[
            OpenApiExample(
                "Two free starts",
                value={
                    "service": "5d7a...",
                    "timezone": "Europe/Berlin",
                    "slots": [
                        {
                            "starts_at": "2026-05-04T09:00:00+02:00",
                            "ends_at": "2026-05-04T10:00:00+02:00",
                            "resources": [{"id": "0b9f...", "name": "Ana", "type": "STAFF"}],
                            "seats_left": 1,
                            "session": None,
                        }
                    ],
                },
                response_only=True,
            )
        ],
    )
    def get(self, request: Request) -> Response:
        query = AvailabilityQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        values = query.validated_data
        tz = ZoneInfo(values.get("timezone") or request.tenant.timezone)
        result = availability_for(
            service=values["service"], date_from=values["start"], date_to=values["end"], tz=tz,
            now=timezone.now(), step_minutes=values["step_minutes"],
        )  # fmt: skip
        described = {
            pk: {"id": str(r.public_id), "name": r.name, "type": r.type}
            for pk, r in result.resources.items()
        }
        service = values["service"]
        sessions = _sessions(service=service, values=values, tz=tz)
        slots = [
            {
                "starts_at": from_epoch(slot.start).astimezone(tz).isoformat(),
                "ends_at": from_epoch(slot.end).astimezone(tz).isoformat(),
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
        return Response(
            {"service": str(values["service"].public_id), "timezone": str(tz), "slots": slots}
        )
