"""The business's people read closures (staff too: they plan around them); owners and managers
(``manage_schedule``) write them. Customers see closures where they matter to them: in
availability."""

from access.permissions import IsInScopeOfThisHost, capability_permission

CLOSURE_PERMISSIONS = [
    IsInScopeOfThisHost,
    capability_permission("view_schedule"),
    capability_permission("manage_schedule", write_only=True),
]
