"""Request routing by host: the platform host, a tenant's host, or nothing at all."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse
from django.http.request import split_domain_port
from django_tenants.middleware.main import TenantMainMiddleware

from core.api.errors import json_error
from core.db.connection import connection
from core.health import PROBES
from tenancy.http import request_tenant, request_tenant_set
from tenancy.selectors import domain_for_host, platform_tenant

logger = logging.getLogger("security")


class TenantRoutingMiddleware(TenantMainMiddleware):
    """Set the schema for the request's host before anything else reads the database.

    Platform hosts (``DJANGO_ALLOWED_HOSTS``) use the public schema; any other host must be a
    ``core.Domain`` row. Unknown hosts, unverified custom domains, suspended tenants and tenants
    scheduled for deletion get a JSON error and never reach a view. The health probes
    (``core.health``) answer on any host.
    """

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        if (probe := PROBES.get(request.path_info)) is not None:
            return probe(request)  # health and readiness: every host, before any lookup
        connection.set_schema_to_public()
        try:
            hostname, _port = split_domain_port(request.get_host())
        except DisallowedHost:
            return json_error(400, "bad_host", "The Host header is not valid.")

        if hostname in settings.PLATFORM_HOSTS:
            request_tenant_set(request, platform_tenant())
            connection.set_tenant(request_tenant(request))
            self.setup_url_routing(request)
            return None

        domain = domain_for_host(hostname)
        if domain is None or not domain.serves_tenant:
            return json_error(404, "unknown_host", f"No tenant answers on '{hostname}'.")
        tenant = domain.tenant
        if tenant.is_suspended:
            return json_error(
                403, "tenant_suspended", "This business's account is suspended. Contact support."
            )
        if tenant.is_pending_deletion:
            return json_error(
                410,
                "tenant_pending_deletion",
                "This business's account is scheduled for deletion on "
                f"{tenant.deletion_due_at:%Y-%m-%d %H:%M} UTC; its data is no longer served. "
                "Contact support to cancel the deletion before then.",
            )
        tenant.domain_url = hostname
        request_tenant_set(request, tenant)
        connection.set_tenant(tenant)
        self.setup_url_routing(request)
        return None
