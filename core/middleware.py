"""Request routing by host (the platform host, a tenant's host, or nothing at all) and the
masquerade bookkeeping of every request."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.core.exceptions import DisallowedHost
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest, HttpResponse
from django.http.request import split_domain_port
from django_tenants.middleware.main import TenantMainMiddleware

from core.api.errors import json_error
from core.audit import request_context, security_event
from core.health import PROBES
from core.masquerade import services
from core.selectors import domain_for_host, platform_tenant

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
            request.tenant = platform_tenant()
            connection.set_tenant(request.tenant)
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
        request.tenant = tenant
        connection.set_tenant(tenant)
        self.setup_url_routing(request)
        return None


class MasqueradeAuditMiddleware:
    """After django-hijack's middleware: makes the request the audit context of everything it
    causes (core.audit), ties a masquerading session to its live ``MasqueradeSession`` (ending
    it once expired, ended elsewhere or no longer allowed), marks the request
    (``request.masquerade``), answers with ``X-Masquerade-Actor``, and records one
    ``masqueraded_write`` event per write request made while masquerading.

    Token masquerades are recognised later, by the API's authentication; the response half of
    this middleware treats them the same way. Every audit row written while a request runs in a
    masquerade names the masquerading operator.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with request_context(request):
            return self._serve(request)

    def _serve(self, request: HttpRequest) -> HttpResponse:
        request.masquerade = None
        if request.session.get(services.HISTORY_KEY):
            record = services.masquerade_live_record(request.session.get(services.MASQUERADE_KEY))
            stop = services.masquerade_still_valid(record)
            if stop is None:
                request.masquerade = record
            else:
                if record is not None:
                    services.masquerade_end(request=request, record=record, end_reason=stop)
                logout(request)
        response = self.get_response(request)
        record = getattr(request, "masquerade", None)
        if record is not None:
            response["X-Masquerade-Actor"] = record.hijacker.email
            response["X-Masquerade-Id"] = str(record.public_id)
            if request.method not in ("GET", "HEAD", "OPTIONS", "TRACE"):
                self._record_write(request, record, response)
        return response

    @staticmethod
    def _record_write(request: HttpRequest, record, response: HttpResponse) -> None:
        """The request's summary row. The writes themselves were audited in their own
        transactions, each naming the operator; this row comes after they committed, so losing
        the database now must not turn a saved write into an error for the client: the summary
        goes to the security log instead, and the response stands."""
        try:
            with transaction.atomic():
                security_event(
                    "masqueraded_write",
                    request=request,
                    actor=record.hijacker,
                    target=record.hijacked,
                    masquerade=record,
                    status_code=response.status_code,
                )
        except DatabaseError:
            logger.exception(
                "masqueraded_write not recorded in the audit table",
                extra={
                    "event": "masqueraded_write",
                    "masquerade": str(record.public_id),
                    "operator": record.hijacker.email,
                    "path": request.path,
                    "status_code": response.status_code,
                },
            )
