"""Calendar feed: the per-resource iCalendar feeds (``appointments/ical.py``) answer only while
this plugin is installed and enabled; otherwise every feed URL is a 404."""

from __future__ import annotations

from plugins.base import Plugin

SLUG = "calendar-feed"


class CalendarFeed(Plugin):
    slug = SLUG
