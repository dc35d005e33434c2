"""Where each table lives under Citus schema-based sharding (docs/scaling.md), as data the
sharding-rules test enforces on the model graph today.

- A tenant table lives in its tenant's schema: a distributed schema, all its tables on one node.
- A public table a tenant table points to is a **reference table**, copied to every node, so
  tenant queries that join it (``select_related("created_by")``) run on the tenant's node.
- Every other public table stays on the coordinator (platform host only, never joined with a
  tenant table).
"""

from __future__ import annotations

# Public models every node holds a copy of: what tenant tables point to, plus what those point to
# with a database foreign key (Citus: a reference table references only reference tables).
REFERENCE_MODELS = frozenset({"users.User", "core.Tenant"})

# Apps whose tables exist in the public schema and in every tenant schema, each copy used by its
# own schema only (Django's content types).
BOTH_SIDES_APPS = frozenset({"contenttypes"})
