"""Masquerade audit for browser sessions (SPEC §2.4): after django-hijack's middleware."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.contrib.auth import logout
from django.db import DatabaseError, transaction
from django.http import HttpRequest, HttpResponse

from access.http import request_masquerade, request_masquerade_mark
from access.masquerade.selectors import masquerade_live_record, masquerade_still_valid
from access.masquerade.services import HISTORY_KEY, MASQUERADE_KEY, masquerade_end
from access.models import MasqueradeSession
from core.audit import request_context, security_event

logger = logging.getLogger("security")


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
        request_masquerade_mark(request, None)
        if request.session.get(HISTORY_KEY):
            record = masquerade_live_record(request.session.get(MASQUERADE_KEY))
            stop = masquerade_still_valid(record)
            if stop is None:
                request_masquerade_mark(request, record)
            else:
                if record is not None:
                    masquerade_end(request=request, record=record, end_reason=stop)
                logout(request)
        response = self.get_response(request)
        record = request_masquerade(request)
        if record is not None:
            response["X-Masquerade-Actor"] = record.hijacker.email
            response["X-Masquerade-Id"] = str(record.public_id)
            if request.method not in ("GET", "HEAD", "OPTIONS", "TRACE"):
                self._record_write(request, record, response)
        return response

    @staticmethod
    def _record_write(
        request: HttpRequest, record: MasqueradeSession, response: HttpResponse
    ) -> None:
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
