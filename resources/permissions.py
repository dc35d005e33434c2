"""Everyone in scope reads resources (customers pick from them); ``manage_resources`` writes.
Date overrides are schedule data: ``view_schedule`` reads them."""

from users.permissions import IsInScopeOfThisHost, capability_permission

RESOURCE_PERMISSIONS = [
    IsInScopeOfThisHost,
    capability_permission("manage_resources", write_only=True),
]
# The calendar-feed secret and the photo: only for those who manage resources.
RESOURCE_FEED_PERMISSIONS = [IsInScopeOfThisHost, capability_permission("manage_resources")]
OVERRIDE_PERMISSIONS = [
    IsInScopeOfThisHost,
    capability_permission("view_schedule"),
    capability_permission("manage_resources", write_only=True),
]
