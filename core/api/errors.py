"""One JSON error shape for every failure, from every layer:

{"error": {"code": "...", "message": "...", "fields": {"field": ["..."]}}}

A database that cannot be reached (connection refused or dropped, server shutting down, a
deadlock or timeout) is a 503 with ``Retry-After``, never a 500: nothing was committed by the
request that failed, so the client may safely retry. ``database_unavailable`` is that decision;
DRF's exception handler uses it for the API, ``handler500`` for every other path and for failures
in middleware (tenant routing reads the database before any view runs).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.exceptions import DomainError

logger = logging.getLogger(__name__)

# Long enough for a restarted or failed-over database to come back, short enough for a user.
DATABASE_RETRY_AFTER_SECONDS = 5
DATABASE_UNAVAILABLE = (
    "database_unavailable",
    "The service is briefly unavailable; nothing was saved. Try again in a few seconds.",
)


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return {"error": body}


def json_error(status_code: int, code: str, message: str, **extra: Any) -> JsonResponse:
    return JsonResponse(error_body(code, message, extra or None), status=status_code)


def database_unavailable(exc: BaseException | None) -> bool:
    """Whether ``exc`` means the database could not serve the request (retrying may succeed),
    as opposed to a defect (a ``ProgrammingError``, a ``DataError``: those stay 500s)."""
    return isinstance(exc, OperationalError | InterfaceError)


def _log_unavailable(exc: BaseException) -> None:
    logger.warning("database unavailable, answering 503: %s: %s", type(exc).__name__, exc)


def _validation_fields(error: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {
            field: [str(m) for e in errs for m in e.messages]
            for field, errs in error.error_dict.items()
        }
    return {"non_field_errors": [str(m) for m in error.messages]}


def _first_message(detail: Any) -> str:
    if isinstance(detail, dict):
        for value in detail.values():
            return _first_message(value)
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if database_unavailable(exc):
        _log_unavailable(exc)
        return Response(
            error_body(*DATABASE_UNAVAILABLE),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, DomainError):
        response = Response(error_body(exc.code, exc.message, exc.fields), status=exc.status_code)
        # Errors that mean "try later" (an unanswering AWS or DNS) say when.
        if retry_after := getattr(exc, "retry_after", None):
            response["Retry-After"] = str(retry_after)
        return response
    if isinstance(exc, DjangoValidationError):
        fields = _validation_fields(exc)
        return Response(
            error_body("invalid", _first_message(fields), fields),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, IntegrityError):
        # Constraints are the last line of defence; services turn the expected ones into
        # DomainErrors first. Reaching here still means "conflicts with existing data", not a 500.
        logger.warning("integrity error reached the API: %s", exc)
        return Response(
            error_body("conflict", "The request conflicts with existing data."),
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = error_body("invalid", _first_message(detail), detail)
    else:
        code = getattr(exc.detail, "code", None) or getattr(exc, "default_code", "error")
        if isinstance(exc.detail, dict) and "code" in exc.detail:  # simplejwt's token errors
            code = str(exc.detail["code"])
        response.data = error_body(code, _first_message(exc.detail))
    return response


def handler404(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return json_error(404, "not_found", "Not found.")


def handler500(request: HttpRequest) -> JsonResponse:
    # Django calls this while handling the exception, so it is still the one in flight.
    exc = sys.exc_info()[1]
    if database_unavailable(exc):
        _log_unavailable(exc)
        response = json_error(503, *DATABASE_UNAVAILABLE)
        response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        return response
    return json_error(500, "server_error", "Internal server error.")


def handler403(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return json_error(403, "permission_denied", "You do not have permission to do this.")


def handler400(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return json_error(400, "bad_request", "Bad request.")
