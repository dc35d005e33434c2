"""System checks for the security settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register


@register("security")
def hijack_check_names_agree(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """The seed calls django-hijack's setting HIJACK_AUTHORIZATION_CHECK (hijack 2); hijack 3
    reads HIJACK_PERMISSION_CHECK. Either may be set; two different answers are an error."""
    old = getattr(settings, "HIJACK_AUTHORIZATION_CHECK", None)
    new = getattr(settings, "HIJACK_PERMISSION_CHECK", None)
    if old and new and old != new:
        return [
            Error(
                f"HIJACK_AUTHORIZATION_CHECK ({old}) and HIJACK_PERMISSION_CHECK ({new}) differ.",
                hint="Point both at core.permissions.may_masquerade, or drop the old name.",
                id="core.E001",
            )
        ]
    return []
