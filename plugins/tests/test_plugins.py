"""The six plugins end to end in one process: events through the outbox (``drain`` runs what
the worker runs), e-mail into Django's test outbox, webhooks to a real local receiver. The same
paths through a real Celery worker and SMTP server: notifications/tests/test_end_to_end.py."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone
from django_tenants.utils import tenant_context

from appointments.models import Appointment
from appointments.services import appointment_book, appointment_reschedule, appointment_transition
from conftest import HOST_A, HOST_B
from notifications.models import Delivery, DueJob, OutboxEvent
from notifications.outbox import due_job_schedule, event_dispatch
from notifications.tests.receivers import webhook_receiver
from notifications.webhooks import url_redacted
from plugin_data.models import CustomerPreference, WebhookEndpoint
from plugins.builtin.agenda import next_local_hour
from plugins.builtin.no_show import no_show_sync
from plugins.builtin.reminders import reminders_sync
from plugins.tests.helpers import drain, install

LOOPBACK = ["127.0.0.1/32"]


def reminder_jobs(world):
    return dict(
        DueJob.objects.filter(
            tenant=world.tenant, kind="reminder", key__startswith=str(world.appointment.public_id)
        ).values_list("key", "due_at")
    )


# Appointment reminders


def test_reminders_are_scheduled_at_each_offset_and_move_with_a_reschedule(world_a):
    install(world_a.tenant, "appointment-reminders")
    start = world_a.appointment.starts_at
    assert sorted(reminder_jobs(world_a).values()) == [
        start - timedelta(hours=24),
        start - timedelta(hours=2),
    ]
    appointment_reschedule(
        tenant=world_a.tenant, actor=world_a.owner, appointment=world_a.appointment,
        starts_at=world_a.at(16),
    )  # fmt: skip
    drain()
    moved = world_a.at(16)
    assert sorted(reminder_jobs(world_a).values()) == [
        moved - timedelta(hours=24),
        moved - timedelta(hours=2),
    ]


def test_cancelled_appointments_lose_their_reminders(world_a):
    install(world_a.tenant, "appointment-reminders")
    appointment_transition(
        tenant=world_a.tenant, actor=world_a.owner, appointment=world_a.appointment, to="CANCELLED"
    )
    drain()
    assert reminder_jobs(world_a) == {}
    # A job that fell due before the cancel was handled sends nothing either.
    due_job_schedule(
        tenant=world_a.tenant, plugin="appointment-reminders", kind="reminder", key="stale",
        due_at=timezone.now() - timedelta(minutes=1),
        payload={"appointment": str(world_a.appointment.public_id), "offset_minutes": 120,
                 "starts_at": world_a.appointment.starts_at.isoformat()},
    )  # fmt: skip
    drain()
    assert mail.outbox == []


def test_reminder_email_in_the_customers_timezone_with_ics_and_unsubscribe(world_a, api):
    install(world_a.tenant, "appointment-reminders")
    CustomerPreference.objects.create(customer=world_a.customer, timezone="America/New_York")
    start = world_a.appointment.starts_at
    drain(now=start - timedelta(hours=24) + timedelta(seconds=1))
    (message,) = mail.outbox
    assert message.to == [world_a.customer.email]
    new_york = start.astimezone(ZoneInfo("America/New_York"))
    assert f"{new_york:%H:%M}" in message.body and "America/New_York" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and "Haircut" in html
    (ics,) = [a for a in message.attachments if a[2] == "text/calendar"]
    assert ics[0] == "appointment.ics" and "BEGIN:VEVENT" in ics[1]
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = message.extra_headers["List-Unsubscribe"].strip("<>")
    path = urlsplit(link).path
    assert api(HOST_B).post(path).status_code == 404  # another tenant's link is worthless
    # A GET (a mail scanner, a link preview) only looks.
    looked = api(HOST_A).get(path)
    assert looked.status_code == 200 and looked.json()["unsubscribed"] is False
    assert not CustomerPreference.objects.filter(unsubscribed_at__isnull=False).exists()
    answer = api(HOST_A).post(path)
    assert answer.status_code == 200 and answer.json()["unsubscribed"] is True
    assert CustomerPreference.objects.get(customer=world_a.customer).unsubscribed_at is not None
    drain(now=start - timedelta(hours=2) + timedelta(seconds=1))
    assert len(mail.outbox) == 1  # the 2-hour reminder is not sent any more


def test_no_reminder_is_sent_late_or_for_a_start_already_past(world_a):
    install(world_a.tenant, "appointment-reminders")
    soon = Appointment.objects.create(
        customer=world_a.customer, service=world_a.cut, price=Decimal("40.00"), status="CONFIRMED",
        starts_at=timezone.now() + timedelta(minutes=90),
        ends_at=timezone.now() + timedelta(hours=3),
    )  # fmt: skip
    with tenant_context(world_a.tenant):
        settings = {"offsets_minutes": [1440, 120]}
        assert reminders_sync(tenant=world_a.tenant, appointment=soon, settings=settings) == 0
    # Booked 90 minutes ahead: the 24 h and 2 h reminders would both be late; none is planned.
    assert not DueJob.objects.filter(key__startswith=str(soon.public_id)).exists()
    Appointment.objects.filter(pk=soon.pk).update(
        starts_at=timezone.now() - timedelta(minutes=5), ends_at=timezone.now() + timedelta(hours=1)
    )
    due_job_schedule(
        tenant=world_a.tenant, plugin="appointment-reminders", kind="reminder", key="past",
        due_at=timezone.now() - timedelta(minutes=1),
        payload={"appointment": str(soon.public_id), "offset_minutes": 120,
                 "starts_at": (timezone.now() - timedelta(minutes=5)).isoformat()},
    )  # fmt: skip
    drain()
    assert mail.outbox == []


def test_handling_an_event_twice_sends_one_email(world_a):
    install(world_a.tenant, "appointment-reminders")
    start = world_a.appointment.starts_at
    drain(now=start - timedelta(hours=24) + timedelta(seconds=1))
    delivery = Delivery.objects.get(plugin="appointment-reminders")
    OutboxEvent.objects.filter(pk=delivery.event_id).update(dispatched_at=None)
    assert event_dispatch(delivery.event_id) == 0  # the same recipient: no second delivery
    drain()
    assert (
        len(mail.outbox) == 1
        and Delivery.objects.filter(plugin="appointment-reminders").count() == 1
    )


# No-show tracking


def test_still_confirmed_after_the_grace_period_becomes_a_no_show(world_a, security_lines):
    install(world_a.tenant, "no-show-tracking", grace_minutes=15)
    ended = Appointment.objects.create(
        customer=world_a.customer, service=world_a.cut, price=Decimal("40.00"), status="CONFIRMED",
        starts_at=timezone.now() - timedelta(hours=2), ends_at=timezone.now() - timedelta(hours=1),
    )  # fmt: skip
    with tenant_context(world_a.tenant):
        no_show_sync(tenant=world_a.tenant, appointment=ended, settings={"grace_minutes": 15})
    drain()
    ended.refresh_from_db()
    assert ended.status == "NO_SHOW"
    assert OutboxEvent.objects.filter(
        kind="appointment.no_show", payload__id=str(ended.public_id)
    ).exists()
    assert any(line["event"] == "appointment_status_changed" and line["status"] == "NO_SHOW"
               for line in security_lines())  # fmt: skip


def test_the_world_appointment_gets_a_no_show_check_after_its_end(world_a):
    install(world_a.tenant, "no-show-tracking")
    job = DueJob.objects.get(tenant=world_a.tenant, kind="no_show")
    assert job.due_at == world_a.appointment.ends_at + timedelta(minutes=30)
    appointment_transition(
        tenant=world_a.tenant, actor=world_a.owner, appointment=world_a.appointment, to="COMPLETED"
    )
    drain()
    assert not DueJob.objects.filter(tenant=world_a.tenant, kind="no_show").exists()


def test_customers_at_the_no_show_threshold_book_pending_the_others_confirmed(world_a):
    def book(hour):
        appointment, _ = appointment_book(
            tenant=world_a.tenant, actor=world_a.owner, service=world_a.cut,
            customer=world_a.customer, starts_at=world_a.at(hour, days=1),
        )  # fmt: skip
        return appointment.status

    assert book(9) == "PENDING"  # without the plugin, as before
    install(world_a.tenant, "no-show-tracking", threshold=1)
    assert book(11) == "CONFIRMED"
    Appointment.objects.create(
        customer=world_a.customer, service=world_a.cut, price=Decimal("40.00"), status="NO_SHOW",
        starts_at=world_a.at(9, days=-20), ends_at=world_a.at(10, days=-20),
    )  # fmt: skip
    assert book(13) == "PENDING"


# Daily agenda


@pytest.mark.parametrize(
    ("after", "hour", "expected"),
    [
        (datetime(2026, 3, 28, 12, tzinfo=UTC), 7, datetime(2026, 3, 29, 5, tzinfo=UTC)),  # CEST
        (datetime(2026, 3, 27, 12, tzinfo=UTC), 7, datetime(2026, 3, 28, 6, tzinfo=UTC)),  # CET
        (datetime(2026, 10, 24, 12, tzinfo=UTC), 7, datetime(2026, 10, 25, 6, tzinfo=UTC)),
        # 02:00 does not exist on 29 March in Berlin: the first hour after the gap.
        (datetime(2026, 3, 28, 12, tzinfo=UTC), 2, datetime(2026, 3, 29, 1, tzinfo=UTC)),
        (datetime(2026, 3, 29, 4, 59, tzinfo=UTC), 7, datetime(2026, 3, 29, 5, tzinfo=UTC)),
    ],
)
def test_the_agenda_hour_is_local_and_dst_correct(after, hour, expected):
    assert next_local_hour(tz=ZoneInfo("Europe/Berlin"), hour=hour, after=after) == expected


def test_staff_with_appointments_that_day_get_their_agenda(world_a):
    install(world_a.tenant, "daily-agenda", hour=6)
    due_job_schedule(
        tenant=world_a.tenant, plugin="daily-agenda", kind="agenda", key="daily",
        due_at=timezone.now() - timedelta(seconds=1), payload={"date": world_a.day.isoformat()},
    )  # fmt: skip
    drain()
    (message,) = mail.outbox
    assert message.to == [world_a.staff.email]
    assert "Haircut" in message.body and "Cara Customer" in message.body
    assert "10:00-11:00" in message.body
    following = DueJob.objects.get(tenant=world_a.tenant, kind="agenda")
    assert (
        following.due_at > timezone.now()
        and following.due_at.astimezone(ZoneInfo(world_a.tenant.timezone)).hour == 6
    )


# Review requests


def test_review_link_rates_once_without_signing_in_and_rates_the_service(world_a, api):
    install(world_a.tenant, "review-requests")
    appointment_transition(
        tenant=world_a.tenant, actor=world_a.owner, appointment=world_a.appointment, to="COMPLETED"
    )
    drain()
    (message,) = mail.outbox
    link = next(word for word in message.body.split() if "/api/reviews/submit/" in word)
    path = urlsplit(link).path
    anonymous = api(HOST_A)
    page = anonymous.get(path)
    assert page.status_code == 200 and page.json()["service"] == "Haircut"
    assert api(HOST_B).get(path).status_code == 404
    assert anonymous.get(path[:-3] + "xx/").status_code == 404
    created = anonymous.post(path, {"rating": 4, "comment": "Lovely"}, format="json")
    assert created.status_code == 201
    again = anonymous.post(path, {"rating": 1}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "review_already_submitted"
    manager = api(HOST_A, world_a.manager)
    (review,) = manager.get("/api/reviews/").json()["results"]
    assert review["rating"] == 4 and review["comment"] == "Lovely"
    replied = manager.post(
        f"/api/reviews/{review['id']}/reply/", {"reply": "Thanks!"}, format="json"
    )
    assert replied.status_code == 200 and replied.json()["reply"] == "Thanks!"
    service = manager.get(f"/api/services/{world_a.cut.public_id}/").json()
    assert service["rating_average"] == "4.00" and service["rating_count"] == 1


# Calendar feed


def test_every_feed_url_is_a_404_unless_the_calendar_feed_plugin_is_on(world_a, api):
    url = f"/api/calendar/{world_a.stylist.ical_token}.ics"
    assert api(HOST_A).get(url).status_code == 404
    install(world_a.tenant, "calendar-feed")
    assert api(HOST_A).get(url).status_code == 200
    owner = api(HOST_A, world_a.owner)
    owner.patch("/api/installed-plugins/calendar-feed/", {"enabled": False}, format="json")
    assert api(HOST_A).get(url).status_code == 404
    owner.patch("/api/installed-plugins/calendar-feed/", {"enabled": True}, format="json")
    assert api(HOST_A).get(url).status_code == 200
    owner.delete("/api/installed-plugins/calendar-feed/")
    assert api(HOST_A).get(url).status_code == 404


# Webhooks


def _endpoint(api, world, url, **extra):
    return api(HOST_A, world.manager).post(
        "/api/webhooks/endpoints/", {"url": url, **extra}, format="json"
    )


def test_webhooks_are_signed_per_standard_webhooks_and_logged(world_a, api, settings):
    settings.WEBHOOK_ALLOWED_PRIVATE_NETWORKS = LOOPBACK
    install(world_a.tenant, "webhooks")
    with webhook_receiver() as receiver:
        created = _endpoint(api, world_a, receiver.url)
        assert created.status_code == 201
        receiver.secret = created.json()["secret"]
        assert receiver.secret.startswith("whsec_")
        shown = api(HOST_A, world_a.manager).get(f"/api/webhooks/endpoints/{created.json()['id']}/")
        assert "secret" not in shown.json()
        appointment_transition(
            tenant=world_a.tenant, actor=world_a.owner, appointment=world_a.other_appointment,
            to="CONFIRMED",
        )  # fmt: skip
        drain()
    (call,) = receiver.received
    assert call["verified"] is True
    assert call["payload"]["type"] == "appointment.confirmed"
    assert call["payload"]["data"]["id"] == str(world_a.other_appointment.public_id)
    assert call["id"].startswith("msg_")
    log = api(HOST_A, world_a.staff).get("/api/deliveries/", {"plugin": "webhooks"}).json()
    (entry,) = log["results"]
    assert entry["status"] == "SENT" and entry["response_status"] == 200
    assert entry["latency_ms"] is not None and entry["event_type"] == "appointment.confirmed"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook", "http://10.0.0.7/hook", "http://169.254.169.254/latest",
        "http://[::1]/hook", "http://localhost/hook", "ftp://93.184.215.14/x",
        "http://user:pw@93.184.215.14/hook",
    ],
)  # fmt: skip
def test_private_loopback_and_link_local_targets_are_refused(world_a, api, url):
    install(world_a.tenant, "webhooks")
    response = _endpoint(api, world_a, url)
    assert response.status_code == 400
    assert "url" in response.json()["error"]["fields"]


def test_a_target_that_becomes_private_is_refused_when_sending(world_a, api, settings):
    settings.WEBHOOK_ALLOWED_PRIVATE_NETWORKS = LOOPBACK
    install(world_a.tenant, "webhooks")
    with webhook_receiver() as receiver:
        _endpoint(api, world_a, receiver.url)
        settings.WEBHOOK_ALLOWED_PRIVATE_NETWORKS = []
        appointment_transition(
            tenant=world_a.tenant, actor=world_a.owner, appointment=world_a.other_appointment,
            to="CONFIRMED",
        )  # fmt: skip
        drain()
    assert receiver.received == []
    delivery = Delivery.objects.get(plugin="webhooks")
    assert delivery.status == "PENDING" and "private" in delivery.last_error


def test_event_type_filters_choose_what_an_endpoint_receives(world_a, api, settings):
    settings.WEBHOOK_ALLOWED_PRIVATE_NETWORKS = LOOPBACK
    install(world_a.tenant, "webhooks")
    with webhook_receiver() as receiver:
        receiver.secret = _endpoint(
            api, world_a, receiver.url, event_types=["appointment.cancelled"]
        ).json()["secret"]
        for to in ("CONFIRMED", "CANCELLED"):
            appointment_transition(
                tenant=world_a.tenant, actor=world_a.owner,
                appointment=world_a.other_appointment, to=to,
            )  # fmt: skip
        drain()
    assert [r["payload"]["type"] for r in receiver.received] == ["appointment.cancelled"]
    bad = _endpoint(api, world_a, receiver.url, event_types=["appointment.exploded"])
    assert bad.status_code == 400 and "event_types" in bad.json()["error"]["fields"]


def test_an_endpoint_failing_again_and_again_is_disabled_and_the_owner_told(world_a, api, settings):
    settings.WEBHOOK_ALLOWED_PRIVATE_NETWORKS = LOOPBACK
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 3
    settings.NOTIFICATIONS_RETRY_BASE_SECONDS = 0
    install(world_a.tenant, "webhooks")
    with webhook_receiver(statuses=[500]) as receiver:
        endpoint_id = _endpoint(api, world_a, receiver.url).json()["id"]
        appointment_transition(
            tenant=world_a.tenant, actor=world_a.owner, appointment=world_a.other_appointment,
            to="CONFIRMED",
        )  # fmt: skip
        for _ in range(5):
            drain()
    assert len(receiver.received) == 3
    with tenant_context(world_a.tenant):
        endpoint = WebhookEndpoint.objects.get(public_id=endpoint_id)
    assert endpoint.enabled is False and endpoint.disabled_reason == "HTTP 500"
    (warning,) = [m for m in mail.outbox if m.to == [world_a.owner.email]]
    # The URL can hold a token: the owners' e-mail (and the event behind it) show only its host.
    assert "disabled" in warning.subject and url_redacted(receiver.url) in warning.body
    assert receiver.url not in warning.body
    assert Delivery.objects.get(plugin="webhooks", channel="WEBHOOK").status == "SKIPPED"
    enabled = api(HOST_A, world_a.manager).patch(
        f"/api/webhooks/endpoints/{endpoint_id}/", {"enabled": True}, format="json"
    )
    assert enabled.json()["enabled"] is True and enabled.json()["consecutive_failures"] == 0


def test_rotating_the_secret_and_redelivering_by_hand(world_a, api, settings):
    settings.WEBHOOK_ALLOWED_PRIVATE_NETWORKS = LOOPBACK
    install(world_a.tenant, "webhooks")
    client = api(HOST_A, world_a.manager)
    with webhook_receiver() as receiver:
        endpoint = _endpoint(api, world_a, receiver.url).json()
        receiver.secret = endpoint["secret"]
        appointment_transition(
            tenant=world_a.tenant, actor=world_a.owner, appointment=world_a.other_appointment,
            to="CONFIRMED",
        )  # fmt: skip
        drain()
        rotated = client.post(f"/api/webhooks/endpoints/{endpoint['id']}/rotate-secret/")
        assert rotated.status_code == 200 and rotated.json()["secret"] != endpoint["secret"]
        receiver.secret = rotated.json()["secret"]
        delivery = client.get("/api/deliveries/").json()["results"][0]
        assert client.post(f"/api/deliveries/{delivery['id']}/redeliver/").status_code == 202
        drain()
    first, second = receiver.received
    assert first["id"] == second["id"] and second["verified"] is True


def test_customers_carry_their_no_show_count(world_a, api):
    appointment_transition(
        tenant=world_a.tenant, actor=world_a.owner, appointment=world_a.appointment, to="NO_SHOW"
    )
    customer = api(HOST_A, world_a.staff).get(f"/api/customers/{world_a.customer.public_id}/")
    assert customer.json()["no_show_count"] == 1


def test_a_receiver_that_never_answers_times_out_and_is_retried(world_a, api, settings):
    settings.WEBHOOK_ALLOWED_PRIVATE_NETWORKS = LOOPBACK
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    install(world_a.tenant, "webhooks")
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        _endpoint(api, world_a, f"http://127.0.0.1:{silent.getsockname()[1]}/hook")
        appointment_transition(
            tenant=world_a.tenant, actor=world_a.owner, appointment=world_a.other_appointment,
            to="CONFIRMED",
        )  # fmt: skip
        started = time.monotonic()
        drain()
        assert time.monotonic() - started < 5
    delivery = Delivery.objects.get(plugin="webhooks")
    assert delivery.status == "PENDING" and delivery.attempts == 1
    assert "timed out" in delivery.last_error.lower()
    assert delivery.next_attempt_at > timezone.now()


def test_a_suspended_business_sends_nothing(world_a):
    install(world_a.tenant, "appointment-reminders")
    world_a.tenant.status = "SUSPENDED"
    world_a.tenant.save()
    drain(now=world_a.appointment.starts_at - timedelta(hours=2) + timedelta(seconds=1))
    assert mail.outbox == [] and not Delivery.objects.filter(tenant=world_a.tenant).exists()
