"""Which browser origins may call a host's API, and with which credentials (django-cors-headers).

Only ``/api/`` answers cross-origin (``CORS_URLS_REGEX``). An origin is allowed on every host
when it is in ``CORS_ALLOWED_ORIGINS`` (the environment), and on a tenant's hosts when that
tenant lists it (``Tenant.cors_allowed_origins``, the tenant settings API): one business's list
never opens another business's host, nor the platform's. Preflights are answered by the
middleware before any view, so they never need credentials.

Credentials (``Access-Control-Allow-Credentials``) only where cookies are used: a token client
sends its JWT in a header and needs none; a page that signs in with the session cookie can only
write through Django's CSRF check when its origin is in ``CSRF_TRUSTED_ORIGINS``, so exactly
those origins are answered with credentials allowed."""

from __future__ import annotations

from typing import Any

from corsheaders.middleware import ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_ORIGIN
from corsheaders.middleware import CorsMiddleware as BaseCorsMiddleware
from corsheaders.signals import check_request_enabled
from django.conf import settings
from django.dispatch import receiver
from django.http import HttpRequest
from django.http.response import HttpResponseBase

API_PREFIX = "/api/"


@receiver(check_request_enabled, dispatch_uid="cors_tenant_origins")
def tenant_allows_origin(sender: Any, request: HttpRequest, **kwargs: Any) -> bool:
    """Whether the tenant whose host this is lists the request's origin."""
    origin = request.headers.get("origin", "").lower()
    tenant = getattr(request, "tenant", None)
    return (
        bool(origin)
        and request.path_info.startswith(API_PREFIX)
        and origin in getattr(tenant, "cors_allowed_origins", ())
    )


class CorsMiddleware(BaseCorsMiddleware):
    """django-cors-headers' middleware, allowing credentials to cookie-using origins only."""

    def add_response_headers(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        response = super().add_response_headers(request, response)
        origin = response.headers.get(ACCESS_CONTROL_ALLOW_ORIGIN)
        if origin and origin in settings.CSRF_TRUSTED_ORIGINS:
            response[ACCESS_CONTROL_ALLOW_CREDENTIALS] = "true"
        return response
