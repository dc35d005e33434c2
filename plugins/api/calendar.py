"""The secret-URL iCalendar feed of a resource."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.views import APIView

from appointments.ical import resource_calendar_feed
from core.exceptions import NotFound
from plugins.selectors import plugin_active
from resources.models import Resource
from tenancy.http import request_tenant


class CalendarFeedView(APIView):
    """A resource's appointments as an iCalendar feed. The secret URL is the credential."""

    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(
        tags=["calendar"],
        responses={(200, "text/calendar"): OpenApiTypes.STR},
        description="Subscribe to it from any calendar app; rotate or revoke it with "
        "/api/resources/{id}/calendar-feed/.",
    )
    def get(self, request: Request, token: str) -> HttpResponse:
        resource = Resource.objects.filter(ical_token=token).first()
        # The feeds are the calendar-feed plugin's: without it every feed URL is a 404.
        if resource is None or not plugin_active(
            tenant=request_tenant(request), slug="calendar-feed"
        ):
            raise NotFound("No such calendar feed.")
        body = resource_calendar_feed(resource=resource, host=request.get_host())
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
        response["Cache-Control"] = "private, max-age=300"
        return response
