"""The one way this project talks to AWS: clients built from settings, and AWS failures turned
into domain errors.

Settings are read on every call (``config/settings/aws.py``): an endpoint URL points S3 and
Route53 at a local server such as moto, and tests can change it per test. Clients are cached per
thread and per configuration, because building one costs milliseconds and boto3 sessions are not
thread-safe (clients are, but resources are not, so resources stay per thread too).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from core.exceptions import DomainError

logger = logging.getLogger(__name__)

_ENDPOINT_SETTINGS = {"s3": "AWS_S3_ENDPOINT_URL", "route53": "AWS_ROUTE53_ENDPOINT_URL"}
_local = threading.local()


class AwsError(DomainError):
    """AWS refused or could not be reached. ``aws_code`` is AWS's own error code, if any."""

    status_code = 502
    default_code = "aws_error"

    def __init__(self, message: str, *, aws_code: str = "", code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.aws_code = aws_code


class AwsUnavailable(AwsError):
    """The call could not be made (network, timeout, throttling, credentials): try again later."""

    status_code = 503
    default_code = "aws_unavailable"


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
        session = boto3.session.Session()
        cache[key] = getattr(session, kind)(service, **options)
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
    """Turn whatever boto3 raises while doing ``action`` into ``AwsError``/``AwsUnavailable``.

    Callers catch the specific ``aws_code`` values they understand (e.g. NoSuchHostedZone);
    everything else reaches the API as a JSON 502/503, never a 500.
    """
    try:
        yield
    except ClientError as error:
        code = error_code(error)
        logger.warning("AWS refused to %s: %s %s", action, code, error_message(error))
        kind = AwsUnavailable if code in _TRANSIENT_CODES else AwsError
        raise kind(
            f"AWS could not {action}: {error_message(error)} ({code}).", aws_code=code
        ) from error
    except BotoCoreError as error:
        # Connection refused, timeouts, missing credentials: nothing reached AWS, or no answer came.
        logger.warning("AWS unreachable to %s: %s", action, error)
        raise AwsUnavailable(
            f"AWS could not be reached to {action}; try again later. ({type(error).__name__})",
            aws_code=type(error).__name__,
        ) from error
