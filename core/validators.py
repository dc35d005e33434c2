"""Validators for platform records; each raises ``ValidationError`` with a sentence for a person."""

import re
import zoneinfo
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

SCHEMA_NAME_PATTERN = r"^[a-z_][a-z0-9_]{0,62}$"
RESERVED_SCHEMA_NAMES = frozenset(
    {
        "public",
        "information_schema",
        "template",
        "template0",
        "template1",
        "default",
        "postgres",
        "tenant_template",  # settings.TENANT_TEMPLATE_SCHEMA
    }
)
HOSTNAME_PATTERN = (
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)


def validate_schema_name(value: str) -> None:
    if not re.fullmatch(SCHEMA_NAME_PATTERN, value or ""):
        raise ValidationError(
            "Schema names use lowercase letters, digits and underscores, start with a letter or "
            "underscore and have at most 63 characters.",
            code="invalid_schema_name",
        )
    if value in RESERVED_SCHEMA_NAMES or value.startswith("pg_"):
        raise ValidationError(f"'{value}' is a reserved schema name.", code="reserved_schema_name")


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"'{value}' is not an IANA time zone.", code="invalid_timezone")


def validate_hostname(value: str) -> None:
    if not re.fullmatch(HOSTNAME_PATTERN, value or ""):
        raise ValidationError(
            f"'{value}' is not a valid host name (lowercase letters, digits, hyphens and dots; "
            "no wildcards, ports or schemes).",
            code="invalid_hostname",
        )


def _is_at_or_under(value: str, parent: str) -> bool:
    parent = parent.strip().lower().rstrip(".")
    return bool(parent) and (value == parent or value.endswith("." + parent))


def validate_custom_hostname(value: str) -> None:
    """A tenant's own domain: a real DNS name, not a wildcard, not one of the platform's names."""
    if "*" in (value or ""):
        raise ValidationError("Wildcard domains are not allowed.", code="wildcard_domain")
    validate_hostname(value)
    platform_names = [
        *settings.PLATFORM_HOSTS,
        settings.TENANT_BASE_DOMAIN,
        settings.PLATFORM_CNAME_TARGET,
    ]
    if any(_is_at_or_under(value, name) for name in platform_names):
        raise ValidationError(
            f"'{value}' belongs to the platform; a custom domain must be the business's own.",
            code="platform_domain",
        )
    labels = value.split(".")
    if len(labels) < 2 or not re.search(r"[a-z]", labels[-1]):
        raise ValidationError(
            f"'{value}' is not a public domain name (it needs a name and a top-level domain).",
            code="invalid_hostname",
        )


# A browser origin as stored (tenancy.models.Tenant.cors_allowed_origins, also a database check):
# scheme://host[:port], lower case, without the scheme's default port.
CORS_ORIGIN_PATTERN = r"https?://[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?"
CORS_ORIGINS_MAX = 20
_DEFAULT_PORTS = {"http": 80, "https": 443}


def cors_origin_normalized(value: str) -> str:
    """``value`` written as the ``Origin`` header a browser sends from that site."""
    invalid = ValidationError(
        f"'{value}' is not an origin: write scheme://host[:port], e.g. https://book.example.com.",
        code="invalid_origin",
    )
    try:
        url = urlsplit(value.strip())
        port = url.port
    except ValueError:
        raise invalid from None
    if url.path not in ("", "/") or url.query or url.fragment or url.username or url.password:
        raise invalid
    origin = f"{url.scheme}://{url.hostname or ''}"
    if port is not None and port != _DEFAULT_PORTS.get(url.scheme):
        origin += f":{port}"
    if not re.fullmatch(CORS_ORIGIN_PATTERN, origin):
        raise invalid
    return origin


def validate_cors_origin(value: str) -> None:
    if (normalized := cors_origin_normalized(value)) != value:
        raise ValidationError(f"Write '{value}' as '{normalized}'.", code="invalid_origin")
