"""The one exception type for domain errors. ``core.api.errors`` turns it into JSON."""

from __future__ import annotations


class DomainError(Exception):
    status_code = 400
    default_code = "invalid"

    def __init__(
        self, message: str, *, code: str | None = None, fields: dict[str, list[str]] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.fields = fields or {}


class NotFound(DomainError):
    status_code = 404
    default_code = "not_found"


class PermissionDenied(DomainError):
    status_code = 403
    default_code = "permission_denied"


class Conflict(DomainError):
    status_code = 409
    default_code = "conflict"


class TierLimitExceeded(PermissionDenied):
    default_code = "tier_limit_exceeded"


class TooManyRequests(DomainError):
    """A 429: ``retry_after`` seconds until the window or quota period ends."""

    status_code = 429
    default_code = "throttled"

    def __init__(self, message: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = max(1, retry_after)


class QuotaExceeded(TooManyRequests):
    default_code = "quota_exceeded"
