"""The six platform plugins as data, and the idempotent sync that puts them in the catalogue.

``python manage.py sync_plugins`` (run by ``make run`` and the containers' start script) writes
these rows by slug: names, descriptions, schemas and versions follow this file; install counts
and ratings are never touched. Running it again changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from plugins.models import Category, PluginTemplate

AUTHOR = "Smooth Schedule"
VERSION = "1.0.0"
ALL_TIERS = ["FREE", "PROFESSIONAL", "BUSINESS", "ENTERPRISE"]
PAID_TIERS = ["PROFESSIONAL", "BUSINESS", "ENTERPRISE"]


def _object(**properties: Any) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }


def _permission(code: str, label: str) -> dict[str, str]:
    return {"code": code, "label": label}


READ_APPOINTMENTS = _permission("appointments.read", "Read your appointments")
EMAIL_CUSTOMERS = _permission("customers.email", "Send e-mail to your customers")
READ_CUSTOMERS = _permission("customers.read", "Read your customers' names and contact details")

PLATFORM_PLUGINS: list[dict[str, Any]] = [
    {
        "slug": "appointment-reminders",
        "name": "Appointment Reminders",
        "short_description": "E-mail customers before their appointment, with a calendar file.",
        "description": """\
Missed appointments cost a business the time it kept free. Appointment Reminders e-mails each
customer before their appointment, at the moments you choose, so they arrive on time or tell
you early enough to give the slot to someone else.

What it does:
- Sends a reminder at every offset you set before the start (by default 24 hours and 2 hours).
- Writes the time in the customer's own timezone (or the business's when the customer has none).
- Attaches an .ics calendar file, so one tap puts the appointment in any calendar app.
- Follows the schedule: a rescheduled appointment's reminders move with it, a cancelled one's are
  dropped, and no reminder is ever sent for a start that has already passed.
- Uses your business name and logo and your own wording (the e-mail templates are yours to edit).
- Every e-mail carries a one-click unsubscribe link; customers who use it are not written to again.

Reminders go through the platform's outbox: when the mail server is down they wait and go out
once it is back, each exactly once.""",
        "category": Category.NOTIFICATIONS,
        "icon": "bell",
        "required_permissions": [READ_APPOINTMENTS, EMAIL_CUSTOMERS],
        "settings_schema": _object(
            offsets_minutes={
                "type": "array",
                "description": "Minutes before the start at which reminders go out.",
                "items": {"type": "integer", "minimum": 5, "maximum": 20160},
                "minItems": 1,
                "maxItems": 5,
                "uniqueItems": True,
                "default": [1440, 120],
            },
            attach_ics={
                "type": "boolean",
                "description": "Attach an .ics calendar file.",
                "default": True,
            },
        ),
        "allowed_tiers": ALL_TIERS,
    },
    {
        "slug": "webhooks",
        "name": "Webhooks",
        "short_description": "Signed JSON POSTs to your systems whenever the schedule changes.",
        "description": """\
Connect Smooth Schedule to the rest of your business: your CRM, accounting, a chat channel or
your own code. Webhooks sends a signed JSON message to the URLs you register each time an
appointment or a customer changes.

What it does:
- Events: appointment.created, .confirmed, .rescheduled, .cancelled, .completed, .no_show and
  customer.created; each endpoint picks the ones it wants.
- Signs every message per the Standard Webhooks specification (webhook-id, webhook-timestamp and
  webhook-signature headers, HMAC-SHA256), so your receiver can prove it came from us and was
  not replayed. The secret is shown once and can be rotated at any time.
- Retries failed deliveries with exponential backoff; an endpoint that keeps failing is disabled
  and the business owner is told by e-mail.
- Keeps a delivery log with the HTTP status and latency of every message, and lets you redeliver
  any of them by hand.
- Refuses to call private, loopback and link-local addresses, so a webhook can never be turned
  against the platform's own network.

Messages are delivered at least once; use the webhook-id header to ignore a repeat.""",
        "category": Category.INTEGRATIONS,
        "icon": "webhook",
        "required_permissions": [
            READ_APPOINTMENTS,
            READ_CUSTOMERS,
            _permission("network.outbound", "Send your data to the URLs you register"),
        ],
        "settings_schema": _object(),
        "allowed_tiers": PAID_TIERS,
    },
    {
        "slug": "calendar-feed",
        "name": "Calendar Feed",
        "short_description": "Each resource's schedule as a live iCalendar feed at a secret URL.",
        "description": """\
Let your team see their day where they already look: Google Calendar, Apple Calendar, Outlook or
any other app that subscribes to iCalendar feeds.

What it does:
- Publishes every resource's appointments and time off as an iCalendar (RFC 5545) feed, 90 days
  back and 400 days ahead, in UTC so every calendar app shows local times correctly.
- Protects each feed with its own secret URL; rotate it to revoke an old link, or delete it to
  stop the feed (POST or DELETE /api/resources/{id}/calendar-feed/).
- Cancelled appointments leave the feed on the next refresh; pending ones show as tentative.

Uninstalling turns every feed off at once: their URLs answer 404 until the plugin is installed
again.""",
        "category": Category.CALENDAR,
        "icon": "calendar",
        "required_permissions": [READ_APPOINTMENTS],
        "settings_schema": _object(),
        "allowed_tiers": ALL_TIERS,
    },
    {
        "slug": "daily-agenda",
        "name": "Daily Agenda",
        "short_description": "Every morning, each staff member gets their day's appointments.",
        "description": """\
Start every day knowing what it holds. Daily Agenda e-mails each staff member the list of their
appointments for the day, at the hour you choose.

What it does:
- Sends at a configured local hour (7:00 by default) in the business's timezone, correct across
  daylight-saving changes.
- Writes only to staff who have appointments that day, listing times, services, customers and
  anything still pending confirmation.
- Uses your business name, logo and your own wording.

Staff members receive it at the e-mail address of the account linked to their resource.""",
        "category": Category.REPORTS,
        "icon": "clipboard-list",
        "required_permissions": [
            READ_APPOINTMENTS,
            _permission("staff.email", "Send e-mail to your staff"),
        ],
        "settings_schema": _object(
            hour={
                "type": "integer",
                "description": "Local hour (0-23) the agenda goes out.",
                "minimum": 0,
                "maximum": 23,
                "default": 7,
            },
        ),
        "allowed_tiers": ALL_TIERS,
    },
    {
        "slug": "no-show-tracking",
        "name": "No-Show Tracking",
        "short_description": "Mark missed appointments and ask repeat no-shows to be confirmed.",
        "description": """\
Customers who do not turn up cost you twice: the time you kept for them and the customer you
turned away. No-Show Tracking records them and protects your calendar from repeat offenders.

What it does:
- Marks an appointment NO_SHOW when it is still confirmed a grace period after its end (30
  minutes by default), through the normal status change, so your late fees and audit apply.
- Counts each customer's no-shows.
- Confirms new bookings straight away for customers in good standing, and leaves bookings of
  customers at or over your threshold (3 by default) PENDING until staff confirm them.

Nothing is marked for appointments that already ended before the plugin was installed.""",
        "category": Category.CUSTOMERS,
        "icon": "user-x",
        "required_permissions": [
            READ_APPOINTMENTS,
            _permission("appointments.update", "Change the status of your appointments"),
        ],
        "settings_schema": _object(
            grace_minutes={
                "type": "integer",
                "description": "Minutes after the end before a confirmed appointment is a no-show.",
                "minimum": 0,
                "maximum": 1440,
                "default": 30,
            },
            threshold={
                "type": "integer",
                "description": "No-shows from which a customer's bookings need confirmation.",
                "minimum": 1,
                "maximum": 50,
                "default": 3,
            },
            auto_confirm_below_threshold={
                "type": "boolean",
                "description": "Confirm bookings of customers below the threshold at once.",
                "default": True,
            },
        ),
        "allowed_tiers": ALL_TIERS,
    },
    {
        "slug": "review-requests",
        "name": "Review Requests",
        "short_description": "Ask customers to rate their visit; answer reviews, rate services.",
        "description": """\
Hear from your customers while the visit is fresh. Review Requests e-mails each customer after a
completed appointment and lets them rate it in a minute, without an account.

What it does:
- Sends a request as soon as an appointment is completed, with a signed link that works once.
- Collects a rating from 1 to 5 and an optional comment.
- Lists the reviews for your team, who can answer each one.
- Shows every service's average rating and number of reviews in the services API.
- Uses your business name, logo and wording; a one-click unsubscribe link in every e-mail.

Uninstalling removes the reviews collected and stops the requests.""",
        "category": Category.CUSTOMERS,
        "icon": "star",
        "required_permissions": [READ_APPOINTMENTS, EMAIL_CUSTOMERS],
        "settings_schema": _object(),
        "allowed_tiers": PAID_TIERS,
    },
]


def plugins_sync() -> tuple[int, int]:
    """Upsert the platform plugins by slug; returns (created, updated)."""
    created = updated = 0
    with transaction.atomic():
        for spec in PLATFORM_PLUGINS:
            values = {**spec, "author": AUTHOR, "version": VERSION, "is_platform": True}
            slug = values.pop("slug")
            row = PluginTemplate.objects.select_for_update().filter(slug=slug).first()
            if row is None:
                PluginTemplate.objects.create(slug=slug, **values)
                created += 1
            elif any(getattr(row, field) != value for field, value in values.items()):
                PluginTemplate.objects.filter(pk=row.pk).update(**values)
                updated += 1
    return created, updated
