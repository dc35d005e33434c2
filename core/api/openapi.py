"""The OpenAPI document is the contract: every operation lists the errors it can really answer,
all in the one ``Error`` component, whose ``code`` enumerates ``core.api.errors.ERROR_CODES``.

``ContractAutoSchema`` derives each operation's error responses from the view itself (its
authentication, permissions, throttles, path, pagination and body); views add the ones only they
know (a busy resource, an unreachable AWS) with ``error_response``.

``DEFAULT_SCHEMA_CLASS`` names this module, so it must not import drf-spectacular's views (their
decorators read that setting at import time).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework.permissions import AllowAny, IsAuthenticated

from core.api.errors import ERROR_CODES

_CODE_TABLE = "\n".join(f"- `{code}`: {meaning}" for code, meaning in ERROR_CODES.items())

ERROR_COMPONENT = ResolvedComponent(
    name="Error",
    type=ResolvedComponent.SCHEMA,
    object="core.api.errors",
    schema={
        "type": "object",
        "description": "Every error response of the API, whatever its status.",
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "code": {
                        "type": "string",
                        "enum": list(ERROR_CODES),
                        "description": f"What happened, stable for programs:\n\n{_CODE_TABLE}",
                    },
                    "message": {
                        "type": "string",
                        "description": "What happened, for people (English).",
                    },
                    "fields": {
                        "type": "object",
                        "additionalProperties": {"type": "array", "items": {"type": "string"}},
                        "description": "For input errors: each field (dotted for nested ones, "
                        "e.g. `working_hours.0.start_time`) and what is wrong with it.",
                    },
                },
                "required": ["code", "message"],
            }
        },
        "required": ["error"],
    },
)

GENERIC_DESCRIPTIONS: dict[int, str] = {
    400: "Invalid input (`invalid`, with `fields`), a malformed body (`parse_error`) or text "
    "that cannot be stored (`unstorable_text`).",
    401: "No credentials, or credentials not valid on this host.",
    403: "Signed in, but your role (or the subscription tier) does not allow this.",
    404: "No such object (or not visible to you), or a page past the last.",
    409: "Conflicts with the current data.",
    413: "The body is too large.",
    415: "The body's Content-Type is not accepted here.",
    429: "Too many requests: the business's or the API key's rate limit (`throttled`), a "
    "subscription quota (`quota_exceeded`), or too many sign-in attempts; wait the seconds in "
    "Retry-After.",
    503: "The database cannot be reached; nothing was saved (`database_unavailable`). Retry "
    "after the seconds in Retry-After.",
}
RETRY_AFTER = {
    429: "Seconds to wait before trying again.",
    503: "Seconds to wait before trying again (`database_unavailable`, `aws_unavailable`, "
    "`dns_unavailable`).",
}
# tenancy.ratelimit: the tightest limit the request met (the business's, its API key's, a quota).
RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": {"schema": {"type": "integer"}, "description": "Requests per window."},
    "RateLimit-Remaining": {"schema": {"type": "integer"}, "description": "Left in the window."},
    "RateLimit-Reset": {"schema": {"type": "integer"}, "description": "Seconds to its end."},
    "RateLimit-Policy": {"schema": {"type": "string"}, "description": "`<limit>;w=<seconds>`."},
}
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REFUSE_NOTHING = (AllowAny, IsAuthenticated)  # IsAuthenticated refuses with 401, not 403


def error_response(description: str, *examples: OpenApiExample) -> OpenApiResponse:
    """An error response for ``extend_schema(responses=...)``, in the ``Error`` component.
    Give its examples ``response_only=True`` and their ``status_codes``."""
    return OpenApiResponse(ERROR_COMPONENT.ref, description, examples=list(examples))


class ContractAutoSchema(AutoSchema):
    def get_operation(
        self, path: str, path_regex: str, path_prefix: str, method: str, registry: Any
    ) -> dict[str, Any] | None:
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        registry.register_on_missing(ERROR_COMPONENT)
        responses = operation["responses"]
        for status_code in self.error_statuses(operation):
            response = responses.setdefault(
                str(status_code), {"description": GENERIC_DESCRIPTIONS[status_code]}
            )
            response.setdefault("content", {"application/json": {"schema": ERROR_COMPONENT.ref}})
        for status_code, description in RETRY_AFTER.items():
            if str(status_code) in responses:
                responses[str(status_code)]["headers"] = {
                    "Retry-After": {"schema": {"type": "integer"}, "description": description}
                }
        if "429" in responses:
            responses["429"]["headers"] |= RATE_LIMIT_HEADERS
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def error_statuses(self, operation: dict[str, Any]) -> list[int]:
        """The error statuses this operation can answer, read from its view."""
        view = self.view
        parameters = operation.get("parameters", [])
        authenticated = bool(view.get_authenticators())
        statuses = [400]  # any request: a malformed header or query, unstorable text
        if authenticated:
            statuses.append(401)
        if any(not isinstance(p, REFUSE_NOTHING) for p in view.get_permissions()):
            statuses.append(403)
        if any(p["in"] == "path" for p in parameters) or any(
            p["in"] == "query" and p["name"] == "page" for p in parameters
        ):
            statuses.append(404)
        if authenticated and self.method in WRITE_METHODS:
            statuses.append(409)  # constraints and protected rows (core.api.errors)
        if "requestBody" in operation:
            statuses += [413, 415]
        # Any request to a business's host counts against its rate limit (tenancy.ratelimit).
        statuses.append(429)
        statuses.append(503)  # database_unavailable: routing reads the database for any request
        return statuses


class WallClockTimeExtension(OpenApiSerializerFieldExtension):
    """Times of day here are wall-clock times without an offset (working hours, in the resource's
    timezone). OpenAPI's ``format: time`` is RFC 3339's full-time, which requires one."""

    target_class = "rest_framework.fields.TimeField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema: AutoSchema, direction: str) -> dict[str, Any]:
        return {
            "type": "string",
            "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$",
            "example": "09:00",
        }
