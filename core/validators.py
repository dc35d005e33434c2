"""Validators for platform records; each raises ``ValidationError`` with a sentence for a person."""

import re
import zoneinfo

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
