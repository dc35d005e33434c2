"""The one way this project talks to AWS: clients built from settings, a time budget no AWS
call outlives, and AWS failures turned into domain errors that say nothing about the platform.

Settings are read on every call (``config/settings/aws.py``): an endpoint URL points S3 and
Route53 at a local server such as moto, and tests can change it per test. Clients are cached per
thread and per configuration, because building one costs milliseconds and boto3 sessions are not
thread-safe (clients are, but resources are not, so resources stay per thread too).

Time: each attempt is bounded by the connect and read timeouts, and every call runs inside a time
budget (``AWS_TOTAL_TIMEOUT_SECONDS``), its own or one a whole operation opened with
``time_budget()``. No attempt starts that could end after the budget does, so a hung endpoint costs
a request at most the budget -- well under gunicorn's 30 s worker timeout -- and then a JSON 503.

Errors: AWS's own text names zones, IAM role ARNs and account ids. It goes to the server log, and
the exception carries it as ``detail`` for the audit trail; the message a caller sees is ours alone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from core.exceptions import DomainError

logger = logging.getLogger(__name__)

_ENDPOINT_SETTINGS = {"s3": "AWS_S3_ENDPOINT_URL", "route53": "AWS_ROUTE53_ENDPOINT_URL"}
_local = threading.local()
# The monotonic time by which every AWS call of the current operation must be over.
_deadline: ContextVar[float | None] = ContextVar("aws_deadline", default=None)


class AwsError(DomainError):
    """AWS refused or could not be reached. ``aws_code`` and ``detail`` are AWS's own words: for
    the server log and the audit trail, never for a response."""

    status_code = 502
    default_code = "aws_error"

    def __init__(
        self, message: str, *, aws_code: str = "", detail: str = "", code: str | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.aws_code = aws_code
        self.detail = detail


class AwsUnavailable(AwsError):
    """The call could not be made or got no answer in time (network, timeout, throttling,
    credentials): nothing to fix in the request, try again later."""

    status_code = 503
    default_code = "aws_unavailable"
    retry_after = 30


class AwsDeadlineExceeded(BotoCoreError):
    """Raised before an attempt that could not end inside the time budget; never sent."""

    fmt = "The time budget for AWS calls does not leave room for another attempt."


# AWS error codes that mean "try later", not "your request is wrong".
_TRANSIENT_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "PriorRequestNotComplete",
        "ServiceUnavailable",
        "InternalError",
        "RequestTimeout",
        "SlowDown",
    }
)


@contextmanager
def time_budget() -> Iterator[None]:
    """Every AWS call inside shares one deadline, ``AWS_TOTAL_TIMEOUT_SECONDS`` from now. Inside
    an enclosing budget, that one stays in force."""
    if _deadline.get() is not None:
        yield
        return
    token = _deadline.set(time.monotonic() + settings.AWS_TOTAL_TIMEOUT_SECONDS)
    try:
        yield
    finally:
        _deadline.reset(token)


def _refuse_attempts_past_the_deadline(**kwargs: Any) -> None:
    """botocore's ``before-send`` hook, run before every attempt, retries included."""
    deadline = _deadline.get()
    worst_case = settings.AWS_CONNECT_TIMEOUT_SECONDS + settings.AWS_READ_TIMEOUT_SECONDS
    if deadline is not None and time.monotonic() + worst_case > deadline:
        raise AwsDeadlineExceeded()


def endpoint_url(service: str) -> str | None:
    per_service = _ENDPOINT_SETTINGS.get(service)
    return (per_service and getattr(settings, per_service, None)) or settings.AWS_ENDPOINT_URL


def region_name(service: str) -> str:
    if service == "s3":
        return settings.AWS_S3_REGION_NAME or settings.AWS_REGION
    return settings.AWS_REGION


def _client_options(service: str) -> dict[str, Any]:
    config = Config(
        connect_timeout=settings.AWS_CONNECT_TIMEOUT_SECONDS,
        read_timeout=settings.AWS_READ_TIMEOUT_SECONDS,
        retries={"total_max_attempts": settings.AWS_MAX_ATTEMPTS, "mode": "standard"},
        **(
            {
                "signature_version": settings.AWS_S3_SIGNATURE_VERSION,
                "s3": {"addressing_style": settings.AWS_S3_ADDRESSING_STYLE},
            }
            if service == "s3"
            else {}
        ),
    )
    return {
        "region_name": region_name(service),
        "endpoint_url": endpoint_url(service),
        "aws_access_key_id": settings.AWS_ACCESS_KEY_ID,
        "aws_secret_access_key": settings.AWS_SECRET_ACCESS_KEY,
        "aws_session_token": settings.AWS_SESSION_TOKEN,
        "config": config,
    }


def _cache_key(kind: str, service: str, options: dict[str, Any]) -> tuple:
    config: Config = options["config"]
    return (
        kind,
        service,
        *(value for name, value in options.items() if name != "config"),
        config.connect_timeout,
        config.read_timeout,
        config.retries["total_max_attempts"],
        config.signature_version,
        repr(config.s3),
    )


def _cached(kind: str, service: str) -> Any:
    cache: dict[tuple, Any] = _local.__dict__.setdefault("cache", {})
    options = _client_options(service)
    key = _cache_key(kind, service, options)
    if key not in cache:
        # One session per thread: its loader keeps botocore's service models, so building the
        # next client (new settings) does not read them again.
        session = _local.__dict__.setdefault("session", boto3.session.Session())
        built = getattr(session, kind)(service, **options)
        events = (built.meta.client if kind == "resource" else built).meta.events
        events.register("before-send", _refuse_attempts_past_the_deadline)
        cache[key] = built
    return cache[key]


def client(service: str) -> Any:
    """A boto3 client for ``service`` ("s3", "route53") configured from settings."""
    return _cached("client", service)


def s3_resource() -> Any:
    """The boto3 S3 resource django-storages works with, configured like ``client("s3")``."""
    return _cached("resource", "s3")


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def error_message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", "")) or str(error)


@contextmanager
def aws_errors(action: str) -> Iterator[None]:
    """Run the AWS calls of ``action`` inside a time budget, and turn whatever boto3 raises into
    ``AwsError`` (AWS refused) or ``AwsUnavailable`` (no answer, or AWS asks to try later).

    ``action`` completes "could not ..." in the message a caller sees, so it names nothing of
    the platform's. Callers catch the ``aws_code`` values they understand (NoSuchHostedZone);
    everything else reaches the API as a JSON 502/503, never a 500.
    """
    try:
        with time_budget():
            yield
    except ClientError as error:
        code, detail = error_code(error), error_message(error)
        logger.warning("AWS refused to %s: %s %s", action, code, detail)
        if code in _TRANSIENT_CODES:
            raise AwsUnavailable(
                f"The cloud service is busy and could not {action}; try again later.",
                aws_code=code,
                detail=detail,
            ) from error
        raise AwsError(
            f"The cloud service refused to {action}. The platform's operators have the details.",
            aws_code=code,
            detail=detail,
        ) from error
    except BotoCoreError as error:
        # Connection refused, timeouts, an exhausted budget, missing credentials: nothing reached
        # AWS, or no answer came in time.
        logger.warning("AWS unreachable to %s: %s", action, error)
        raise AwsUnavailable(
            f"The cloud service did not answer in time to {action}; try again later.",
            aws_code=type(error).__name__,
            detail=str(error),
        ) from error
