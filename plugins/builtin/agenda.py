"""Daily agenda: at a local hour each day, every staff member with appointments that day gets
the day's list by e-mail.

One due job per tenant (kind ``agenda``); handling it sends that day's agendas and schedules the
next one. The next time is computed in the tenant's timezone from the local date and hour, so it
stays at the same wall-clock hour across daylight-saving changes (an hour that does not exist
that day, in the spring gap, becomes the first hour after it).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from appointments.models import Allocation
from notifications.email import email_outgoing
from notifications.handlers import Outgoing
from notifications.models import OutboxEvent
from notifications.outbox import due_job_schedule, due_jobs_cancel
from plugins.base import Plugin
from tenancy.models import Tenant
from users.models import User

SLUG = "daily-agenda"
JOB = "agenda"


def next_local_hour(*, tz: ZoneInfo, hour: int, after: datetime) -> datetime:
    """The first moment after ``after`` when the local clock in ``tz`` shows ``hour``:00."""
    day = after.astimezone(tz).date()
    for offset in range(3):
        local = datetime.combine(day + timedelta(days=offset), time(hour), tzinfo=tz)
        # Through UTC and back: a wall time in the spring gap moves to the real time after it.
        moment = local.astimezone(UTC)
        if moment > after:
            return moment
    raise AssertionError("unreachable: some local hour within three days is after 'after'")


def _schedule_next(*, tenant: Tenant, settings: dict[str, Any], after: datetime) -> None:
    due_at = next_local_hour(tz=ZoneInfo(tenant.timezone), hour=settings["hour"], after=after)
    due_job_schedule(
        tenant=tenant, plugin=SLUG, kind=JOB, key="daily", due_at=due_at,
        payload={"date": due_at.astimezone(ZoneInfo(tenant.timezone)).date().isoformat()},
    )  # fmt: skip


def agenda_items(*, day: date, tz: ZoneInfo) -> dict[int, list[dict[str, str]]]:
    """Per staff user id, the day's live appointments on the resources linked to them."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    holds = (
        Allocation.objects.filter(
            is_live=True,
            appointment__isnull=False,
            resource__user__isnull=False,
            appointment__starts_at__gte=start,
            appointment__starts_at__lt=end,
            appointment__status__in=["PENDING", "CONFIRMED"],
        )
        .select_related("appointment__service", "appointment__customer", "resource")
        .order_by("appointment__starts_at", "id")
    )
    items: dict[int, list[dict[str, str]]] = defaultdict(list)
    for hold in holds:
        appointment, user_id = hold.appointment, hold.resource.user_id
        if appointment is None or user_id is None:
            continue  # never: the query keeps appointments' holds of people's resources
        items[user_id].append({
            "starts_at": f"{appointment.starts_at.astimezone(tz):%H:%M}",
            "ends_at": f"{appointment.ends_at.astimezone(tz):%H:%M}",
            "service": appointment.service.name,
            "customer": appointment.customer.name,
            "status": appointment.status,
        })  # fmt: skip
    return items


class DailyAgenda(Plugin):
    slug = SLUG
    events = frozenset({f"job.{JOB}"})

    def on_event(
        self, *, tenant: Tenant, event: OutboxEvent, settings: dict[str, Any]
    ) -> list[Outgoing]:
        payload = event.payload
        tz = ZoneInfo(tenant.timezone)
        due_at = datetime.fromisoformat(payload["due_at"])
        day = date.fromisoformat(payload["date"])
        _schedule_next(tenant=tenant, settings=settings, after=max(due_at, timezone.now()))
        items = agenda_items(day=day, tz=tz)
        staff = User.objects.filter(pk__in=items, tenant=tenant, is_active=True).order_by("id")
        return [
            email_outgoing(
                tenant=tenant, kind="agenda", to=user.email,
                context={
                    "staff": {"name": f"{user.first_name} {user.last_name}".strip() or user.email},
                    "date": f"{day:%A} {day.day} {day:%B %Y}",
                    "appointments": items[user.pk],
                },
            )
            for user in staff
        ]  # fmt: skip

    def on_enable(self, *, tenant: Tenant, settings: dict[str, Any]) -> None:
        _schedule_next(tenant=tenant, settings=settings, after=timezone.now())

    def on_disable(self, *, tenant: Tenant) -> None:
        due_jobs_cancel(tenant=tenant, kind=JOB)
