"""Free start times of a service."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from appointments import permissions
from appointments.api.serializers import AvailabilityQuerySerializer, AvailabilitySerializer
from appointments.availability import from_epoch
from appointments.selectors import MAX_RANGE_DAYS, availability_for
from core.api.openapi import error_response


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
        slots = [
            {
                "starts_at": from_epoch(slot.start).astimezone(tz).isoformat(),
                "ends_at": from_epoch(slot.end).astimezone(tz).isoformat(),
                "resources": [described[pk] for pk in slot.resource_ids],
            }
            for slot in result.slots
        ]
        return Response(
            {"service": str(values["service"].public_id), "timezone": str(tz), "slots": slots}
        )
