"""Everyone in scope reads resources (customers pick from them); ``manage_resources`` writes.
Date overrides are schedule data: ``view_schedule`` reads them."""

from access.permissions import IsInScopeOfThisHost, capability_permission

RESOURCE_PERMISSIONS = [
    IsInScopeOfThisHost,
    capability_permission("manage_resources", write_only=True),
]
RESOURCE_PHOTO_PERMISSIONS = [IsInScopeOfThisHost, capability_permission("manage_resources")]
# The calendar-feed secret is a credential: its own capability, which a masquerade does not lend.
RESOURCE_FEED_PERMISSIONS = [IsInScopeOfThisHost, capability_permission("manage_calendar_feeds")]
OVERRIDE_PERMISSIONS = [
    IsInScopeOfThisHost,
    capability_permission("view_schedule"),
    capability_permission("manage_resources", write_only=True),
]
