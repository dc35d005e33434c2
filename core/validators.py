"""Validators for platform records; each raises ``ValidationError`` with a sentence for a person."""

import re
import zoneinfo

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
