"""Where a newcomer lands: ``/`` and ``/api/`` list the host's entry points; any other unknown
path is a JSON 404, whatever ``DEBUG`` is (Django would render its HTML debug page)."""

from __future__ import annotations

from django.core.exceptions import DisallowedRedirect
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.urls import resolve, reverse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.errors import json_error
from tenancy.http import request_tenant
from tenancy.selectors import is_platform

FALLBACK_NAME = "not-found"
# Served by the operations endpoints (``/health/``: the process answers; ``/ready/``: database,
# cache and broker are reachable).
PROBE_PATHS = {"health": "/health/", "ready": "/ready/"}

Index = inline_serializer(
    "Index",
    {
        "name": serializers.CharField(),
        "host": serializers.ChoiceField(
            choices=["platform", "business"],
            help_text="platform: the operators' API and admin; business: one business's API.",
        ),
        "links": serializers.DictField(
            child=serializers.URLField(), help_text="Absolute URLs of the entry points."
        ),
    },
)


class IndexView(APIView):
    """The entry points of this host: API docs, OpenAPI schema, sign-in, health probes."""

    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(responses=Index, tags=["index"])
    def get(self, request: Request) -> Response:
        platform = is_platform(request_tenant(request))
        links = {
            "docs": reverse("docs"),
            "schema": reverse("schema"),
            "sign_in": reverse("token-obtain"),
            "me": reverse("me"),
            **PROBE_PATHS,
        }
        if platform:
            links["admin"] = reverse("admin:index")
        return Response(
            {
                "name": "Smooth Schedule API",
                "host": "platform" if platform else "business",
                "links": {name: request.build_absolute_uri(path) for name, path in links.items()},
            }
        )


@csrf_exempt  # it changes nothing; a CSRF refusal would be an HTML page
def not_found(request: HttpRequest) -> HttpResponse:
    """The last route of every host. A path that only lacks its trailing slash is redirected
    with its method and body kept (308), so APPEND_SLASH's behaviour survives this catch-all."""
    if not request.path_info.endswith("/"):
        match = resolve(f"{request.path_info}/", urlconf=getattr(request, "urlconf", None))
        if match.url_name != FALLBACK_NAME:
            query = request.META.get("QUERY_STRING", "")
            location = f"{request.path}/" + (f"?{query}" if query else "")
            try:
                return HttpResponsePermanentRedirect(location, preserve_request=True)
            except DisallowedRedirect:  # a URL too long to send back
                pass
    return json_error(404, "not_found", f"No API endpoint at '{request.path}'.")
