"""One JSON error shape for every failure, from every layer:

{"error": {"code": "...", "message": "...", "fields": {"field": ["..."]}}}

``ERROR_CODES`` is the one list of codes a client can meet. The OpenAPI document publishes it
(``core.api.openapi``) and ``error_body`` keeps the promise: a code missing from it (a library's
own) goes out as its status's generic code. ``fields`` always maps a field to a list of messages;
nested serializer errors are flattened to dotted names (``working_hours.0.start_time``).

A database that cannot be reached (connection refused or dropped, server shutting down, a
deadlock or timeout) is a 503 with ``Retry-After``, never a 500: nothing was committed by the
request that failed, so the client may safely retry. ``database_unavailable`` is that decision;
DRF's exception handler uses it for the API, ``handler500`` for every other path and for failures
in middleware (tenant routing reads the database before any view runs).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core import signals
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions

# The module, not its function: DRF imports the authentication classes while rest_framework.views
# is still loading, and they may import this module (through the rate limiter's answers).
from rest_framework import views as drf_views
from rest_framework.response import Response

from core.exceptions import DomainError

logger = logging.getLogger(__name__)
request_logger = logging.getLogger("django.request")

ERROR_CODES: dict[str, str] = {
    # 400: the request itself is wrong; `fields` names what to change.
    "invalid": "A field, filter or query value is not valid (see `fields`).",
    "parse_error": "The body is not valid JSON or form data.",
    "unstorable_text": "Text contains NUL (\\u0000) or an unpaired surrogate: it cannot be stored.",
    "bad_request": "The request is malformed.",
    "bad_host": "The Host header is not a valid host name.",
    "in_past": "The requested start time has already passed.",
    "too_soon": "The start is sooner than the service's minimum notice.",
    "too_far_ahead": "The start is beyond the service's booking horizon.",
    "outside_hours": "No eligible resource works at the requested time (hours, closed days).",
    "tenant_closed": "The business is closed then (a tenant-wide closure, e.g. a holiday).",
    "no_eligible_resource": "The service has no active resource that could provide it.",
    "invalid_transition": "The appointment's status does not allow this change.",
    "invalid_file": "The upload is not an accepted image.",
    "invalid_timezone": "Not an IANA timezone name.",
    "invalid_schema_name": "Not a valid tenant schema name.",
    "reserved_schema_name": "The schema name is reserved.",
    "invalid_role_tenant": "The role and the tenant do not fit together.",
    "wrong_password": "The current password is not correct.",
    "invalid_domain": "Not a valid domain name.",
    "invalid_hostname": "Not a valid host name.",
    "wildcard_domain": "Wildcard domains are not accepted.",
    "platform_domain": "The domain belongs to the platform.",
    "domain_taken": "The domain is already in use.",
    "domain_of_another_tenant": "The domain is under a domain another business holds.",
    "hosted_zone_of_another_tenant": "The Route53 hosted zone holds another business's domains.",
    "not_custom_domain": "Only custom domains can be verified or removed.",
    "invalid_zone_id": "Not a valid Route53 hosted zone id.",
    "hosted_zone_not_found": "The Route53 hosted zone does not exist.",
    "dns_record_rejected": "Route53 refused the DNS record.",
    "custom_domains_unavailable": "Custom domains are not set up on this platform.",
    "self_grant": "Nobody can grant themselves a permission.",
    "grantor_lacks_action": "A grantor can only grant what it holds itself.",
    "grantee_role_not_eligible": "The grantee's role may not receive this action.",
    "permissions_not_accepted": "Installing a plugin needs consent to every permission it asks.",
    "invalid_settings": "The plugin's settings do not fit its JSON Schema (see `fields`).",
    "invalid_template": "The e-mail template does not render with its documented variables.",
    "unsafe_webhook_target": "Webhooks go to public http(s) addresses only (SSRF guard).",
    "bad_archive": "The tenant archive is not readable, or a member does not match its checksum.",
    "archive_migrations_differ": "The tenant archive was made at other migrations than this "
    "platform's.",
    "invalid_intake": "The intake answers do not fit the service's questions (see `fields`).",
    # 401: no credentials, or credentials that are not valid on this host.
    "not_authenticated": "Sign in: no credentials were given.",
    "authentication_failed": "Wrong email or password, or unusable credentials.",
    "token_not_valid": "The token is expired, malformed or revoked.",
    "wrong_host": "The credentials were issued for another host.",
    "masquerade_ended": "The masquerade this token belonged to has ended.",
    "user_not_found": "The token's user no longer exists.",
    "user_inactive": "The account is deactivated.",
    "bad_authorization_header": "The Authorization header is malformed.",
    "password_changed": "The password changed after the token was issued.",
    # 403: signed in, but not allowed.
    "permission_denied": "Your role may not do this here.",
    "tier_limit_exceeded": "The subscription tier's limit is reached.",
    "tenant_suspended": "The business's account is suspended.",
    "masquerade_denied": "You may not act as this user.",
    "masquerade_forbidden": "Not allowed while masquerading (e.g. changing the password).",
    "masquerade_action_refused": (
        "Not allowed while masquerading unless the real person may do it (identities, "
        "credentials, billing, settings)."
    ),
    "own_account": "You cannot do this to your own account.",
    "price_not_allowed": "Your role may not set a price; leave it out to use the service's.",
    "invalid_signature": "The media link is invalid or has expired.",
    "reschedule_window_closed": "Inside the cancellation window customers cannot move an "
    "appointment (cancelling may cost the late fee).",
    # 404
    "not_found": "No such object or page, or it is not visible to you.",
    "unknown_host": "No business answers on this host.",
    "invalid_link": "The signed link (unsubscribe, review, manage) is forged, foreign, expired "
    "or no longer current.",
    # 405, 406
    "method_not_allowed": "This path does not accept the method.",
    "not_acceptable": "No response in the media types the Accept header asks for.",
    # 409: the request is fine but conflicts with the current state.
    "conflict": "The request conflicts with existing data.",
    "resource_busy": "A resource is already booked or blocked at that time.",
    "idempotency_key_reused": "The Idempotency-Key was used with a different request.",
    "dns_record_exists": "The DNS zone already holds a record of that name; it is never replaced.",
    "customer_in_use": "The customer has appointments or charges.",
    "resource_in_use": "The resource holds appointments or blockers.",
    "service_in_use": "The service has appointments.",
    "plugin_already_installed": "The plugin is already installed here.",
    "plugin_not_installed": "The plugin is not installed (or not enabled) here.",
    "delivery_not_redeliverable": "The delivery is cancelled, or could not go out now (the "
    "customer unsubscribed, the plugin is disabled or not on the plan).",
    "webhook_endpoint_limit": "The business has as many webhook endpoints as it may have.",
    "review_already_submitted": "The visit was already reviewed; a review link works once.",
    "session_full": "The group session has no seat left; join its waitlist.",
    "already_seated": "The customer already holds a seat in this session (one per customer).",
    "series_conflict": "Some occurrences of the series cannot be booked; nothing was booked.",
    "slot_available": "The slot or session is not full: book it instead of waiting.",
    "already_waiting": "The customer is already on this waitlist.",
    "offer_not_available": "The waitlist offer was already claimed or withdrawn.",
    "offer_expired": "The waitlist offer's time is up; the place went to the next customer.",
    "not_masquerading": "This request is not made in a masquerade.",
    "already_pending_deletion": "The business is already scheduled for deletion.",
    "not_pending_deletion": "The business is not scheduled for deletion: nothing to cancel.",
    "archive_users_conflict": "Accounts in the tenant archive use e-mails taken on this platform.",
    # 410
    "tenant_pending_deletion": "The business is scheduled for deletion; its hosts serve nothing.",
    # 413, 415, 429
    "request_too_large": "The body is larger than the server accepts.",
    "unsupported_media_type": "The body's Content-Type is not accepted here.",
    "throttled": "Too many requests; retry after the Retry-After header's seconds.",
    "sign_in_locked": "Too many failed sign-ins for this account; retry after Retry-After.",
    "quota_exceeded": "A subscription quota (bookings per month, API calls per day) is used up; "
    "it renews after Retry-After.",
    # 5xx: not the client's fault.
    "server_error": "An unexpected error; it is logged.",
    "aws_error": "AWS refused the operation.",
    "aws_unavailable": "AWS could not be reached; try again later.",
    "audit_unavailable": "The audit log cannot be written, so the action was not taken.",
    "database_unavailable": "The database cannot be reached; nothing was saved. Retry after "
    "Retry-After.",
    "dns_unavailable": "DNS did not answer in time; retry after Retry-After.",
    "not_ready": "A dependency (database, cache, broker) is down: /ready/ only.",
    "service_unavailable": "A service the request needs is unavailable; try again later.",
}

GENERIC_CODES: dict[int, str] = {
    400: "invalid",
    401: "authentication_failed",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "request_too_large",
    415: "unsupported_media_type",
    429: "throttled",
    502: "aws_error",
    503: "service_unavailable",
}

# Long enough for a restarted or failed-over database to come back, short enough for a user.
DATABASE_RETRY_AFTER_SECONDS = 5
DATABASE_UNAVAILABLE = (
    "database_unavailable",
    "The service is briefly unavailable; nothing was saved. Try again in a few seconds.",
)


def documented_code(code: str, status_code: int) -> str:
    """``code`` if the API documents it, else the generic code of ``status_code``."""
    if code in ERROR_CODES:
        return code
    return GENERIC_CODES.get(status_code, "server_error" if status_code >= 500 else "invalid")


def flatten_fields(detail: Any) -> dict[str, list[str]]:
    """Serializer errors of any depth as ``{"dotted.field": ["message", ...]}``."""
    return dict(_flat(detail, ""))


def _flat(detail: Any, prefix: str) -> Iterator[tuple[str, list[str]]]:
    if isinstance(detail, dict):
        for key, value in detail.items():
            yield from _flat(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        # A list serializer's errors: one entry per item, empty for the valid ones.
        for index, item in enumerate(detail):
            if item:
                yield from _flat(item, f"{prefix}.{index}" if prefix else str(index))
    elif isinstance(detail, list):
        yield prefix or "non_field_errors", [str(message) for message in detail]
    else:
        yield prefix or "non_field_errors", [str(detail)]


def error_body(
    code: str, message: str, fields: dict[str, Any] | None = None, *, status_code: int = 400
) -> dict[str, Any]:
    body: dict[str, Any] = {"code": documented_code(code, status_code), "message": message}
    if fields:
        body["fields"] = flatten_fields(fields)
    return {"error": body}


def json_error(status_code: int, code: str, message: str, **fields: Any) -> JsonResponse:
    return JsonResponse(
        error_body(code, message, fields or None, status_code=status_code), status=status_code
    )


def database_unavailable(exc: BaseException | None) -> bool:
    """Whether ``exc`` means the database could not serve the request (retrying may succeed),
    as opposed to a defect (a ``ProgrammingError`` stays a 500) or a value it cannot store (a
    ``DataError`` is the client's input: a 400)."""
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


def _first_message(fields: dict[str, list[str]]) -> str:
    for messages in fields.values():
        if messages:
            return messages[0]
    return "Invalid input."


def _respond(status_code: int, code: str, message: str, fields: Any = None) -> Response:
    return Response(error_body(code, message, fields, status_code=status_code), status=status_code)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's exception handler: every exception a view raises becomes the JSON error shape."""
    if database_unavailable(exc):
        _log_unavailable(exc)
        response = _respond(503, *DATABASE_UNAVAILABLE)
        response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        return response
    if isinstance(exc, DomainError):
        response = _respond(exc.status_code, exc.code, exc.message, exc.fields)
        # Errors that mean "try later" (an unanswering AWS or DNS) say when.
        if retry_after := getattr(exc, "retry_after", None):
            response["Retry-After"] = str(retry_after)
        return response
    if isinstance(exc, DjangoValidationError):
        fields = _validation_fields(exc)
        return _respond(400, "invalid", _first_message(fields), fields)
    if isinstance(exc, exceptions.ValidationError):
        fields = flatten_fields(exc.detail)
        return _respond(400, "invalid", _first_message(fields), fields)
    if isinstance(exc, IntegrityError):
        # Constraints are the last line of defence; services turn the expected ones into
        # DomainErrors first. Reaching here still means "conflicts with existing data", not a 500.
        logger.warning("integrity error reached the API: %s", exc)
        return _respond(409, "conflict", "The request conflicts with existing data.")
    if isinstance(exc, DataError):
        # The request guard refuses NUL characters before any view runs; a value PostgreSQL still
        # cannot store (out of range, unrepresentable) is the client's input, never a 500.
        logger.warning("data error reached the API: %s", exc)
        return _respond(400, "invalid", "A value in the request cannot be stored.")
    if isinstance(exc, RequestDataTooBig):  # multipart form fields over the limit
        return _respond(413, "request_too_large", too_large_message())
    if isinstance(exc, SuspiciousOperation):
        return _respond(400, "bad_request", "The request is malformed.")
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    drf_response = drf_views.exception_handler(exc, context)
    if drf_response is None or not isinstance(exc, exceptions.APIException):
        return server_error_response(context["request"], exc)
    return _api_error_response(drf_response, exc)


def _api_error_response(response: Response, exc: exceptions.APIException) -> Response:
    """DRF's own answer to one of its exceptions, its body in the JSON error shape."""
    code = str(getattr(exc.detail, "code", None) or exc.default_code)
    if isinstance(exc.detail, dict) and "code" in exc.detail:  # simplejwt's token errors
        code = str(exc.detail["code"])
    detail = exc.detail if isinstance(exc.detail, dict) else {"detail": exc.detail}
    message = str(detail.get("detail", _first_message(flatten_fields(detail))))
    response.data = error_body(code, message, status_code=response.status_code)
    return response


def too_large_message() -> str:
    return f"The body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."


def server_error_response(request: Any, exc: BaseException) -> Response:
    """What an unexpected exception becomes: logged with its traceback (and signalled, as Django
    does, so the test client re-raises it), answered as JSON even with DEBUG on."""
    django_request = getattr(request, "_request", request)
    request_logger.error(
        "Internal Server Error: %s",
        getattr(django_request, "path", ""),
        exc_info=(type(exc), exc, exc.__traceback__),
        extra={"status_code": 500, "request": django_request},
    )
    signals.got_request_exception.send(sender=None, request=django_request)
    message = f"{type(exc).__name__}: {exc}" if settings.DEBUG else "Internal server error."
    response = _respond(500, "server_error", message)
    # Django's log_response would log it a second time (a private flag django-stubs omit).
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def handler404(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return json_error(404, "not_found", "Not found.")


def handler500(request: HttpRequest) -> JsonResponse:
    # Django calls this while handling the exception, so it is still the one in flight.
    exc = sys.exc_info()[1]
    if exc is not None and database_unavailable(exc):
        _log_unavailable(exc)
        response = json_error(503, *DATABASE_UNAVAILABLE)
        response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        return response
    message = f"{type(exc).__name__}: {exc}" if settings.DEBUG and exc else "Internal server error."
    return json_error(500, "server_error", message)


def handler403(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return json_error(403, "permission_denied", "You do not have permission to do this.")


def handler400(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return json_error(400, "bad_request", "Bad request.")
