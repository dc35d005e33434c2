"""The kernel's records (the audit trail) and the ``core`` app label's import path.

Every table under the ``core`` label predates the layers that now own it: tenants and domains are
defined in ``tenancy.models``, permission grants and masquerade sessions in ``access.models``,
each declaring ``app_label = "core"`` (their migrations stay here). The seed imports them from
here (``from core.models import Tenant, Domain, PermissionGrant``), so this module answers those
names from Django's app registry, as ``get_user_model()`` does: an import would make the kernel
depend on the layers above it. Code in this project imports them from their own packages."""

from typing import Any

from django.apps import apps

from core.models.audit import AppendOnlyError, AuditEvent, MasqueradeLogBacklog
from core.models.base import PublicRecord

# The ``core`` label's records defined above the kernel, by the name the seed uses.
REGISTERED_ELSEWHERE = frozenset({"Tenant", "Domain", "PermissionGrant", "MasqueradeSession"})

__all__ = [
    "AppendOnlyError",
    "AuditEvent",
    "MasqueradeLogBacklog",
    "PublicRecord",
    *sorted(REGISTERED_ELSEWHERE),
]


def __getattr__(name: str) -> Any:
    if name in REGISTERED_ELSEWHERE:
        return apps.get_model("core", name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
