"""What is checked when a delivery is about to go out: the webhook call's overall deadline, the
sender's claim (fencing), the tenant's status, the plugin still running, the customer's consent;
and what redelivery refuses."""

from __future__ import annotations

import socket
import threading
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from appointments.services import appointment_transition
from conftest import HOST_A
from notifications.delivery import deliveries_claim
from notifications.email import emails_send
from notifications.models import Delivery
from notifications.outbox import event_dispatch, events_due
from plugins.tests.helpers import drain, install
from tenancy.models import Tenant


def _dispatch() -> None:
    for event_id in events_due():
        event_dispatch(event_id)


def _complete(world) -> Delivery:
    install(world.tenant, "review-requests")
    appointment_transition(
        tenant=world.tenant, actor=world.owner, appointment=world.appointment, to="COMPLETED"
    )
    _dispatch()
    return Delivery.objects.get(tenant=world.tenant, plugin="review-requests")


def test_a_trickling_receiver_is_cut_off_at_the_overall_deadline(settings):
    from notifications.webhooks import webhook_post

    settings.WEBHOOK_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1/32"]
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]

    def trickle():  # one byte every 0.4 s: never silent long enough for a per-read timeout
        conn, _ = server.accept()
        conn.recv(65536)
        try:
            for byte in b"HTTP/1.1 200 OK\r\nX-Pad: " + b"a" * 10:
                conn.sendall(bytes([byte]))
                time.sleep(0.4)
            conn.sendall(b"\r\nContent-Length: 0\r\n\r\n")
        except OSError:
            pass
        conn.close()

    threading.Thread(target=trickle, daemon=True).start()
    start = time.monotonic()
    try:
        with pytest.raises(Exception, match=r"(?i)timed out"):
            webhook_post(url=f"http://127.0.0.1:{port}/", body=b"{}", headers={})
    finally:
        server.close()
    assert time.monotonic() - start < 3


def test_a_sender_whose_lease_was_taken_over_does_not_send_again(world_a):
    _complete(world_a)
    t0 = timezone.now()
    first = deliveries_claim(now=t0)  # sender 1, then held up past its lease
    second = deliveries_claim(now=t0 + timedelta(seconds=121))  # sender 2 takes over
    assert [d.pk for d in first] == [d.pk for d in second]
    emails_send(second)
    emails_send(first)  # sender 1 carries on: fenced out, it sends nothing and writes nothing
    assert len(mail.outbox) == 1
    delivery = Delivery.objects.get(pk=first[0].pk)
    assert delivery.status == "SENT" and delivery.attempts == 1


def test_a_suspended_tenants_deliveries_wait_until_it_is_reinstated(world_a):
    delivery = _complete(world_a)
    tenant = Tenant.objects.get(pk=world_a.tenant.pk)
    tenant.status = "SUSPENDED"
    tenant.save()
    drain()
    assert mail.outbox == []
    delivery.refresh_from_db()
    assert delivery.status == "PENDING" and delivery.attempts == 0
    tenant.status = "ACTIVE"
    tenant.save()
    drain()
    assert len(mail.outbox) == 1


def test_a_customer_who_unsubscribed_before_the_send_is_skipped(world_a):
    from notifications.links import link_token
    from plugins.data.services import customer_unsubscribe

    delivery = _complete(world_a)  # rendered while the customer could still be reached
    token = link_token(
        purpose="unsubscribe", tenant=world_a.tenant, value=str(world_a.customer.public_id)
    )
    customer_unsubscribe(tenant=world_a.tenant, token=token)
    drain()
    assert mail.outbox == []
    delivery.refresh_from_db()
    assert delivery.status == "SKIPPED" and "unsubscribed" in delivery.last_error


def test_a_delivery_of_a_plugin_disabled_before_the_send_is_skipped(world_a):
    from plugins.models import PluginInstallation
    from plugins.services import plugin_configure

    delivery = _complete(world_a)
    plugin_configure(
        installation=PluginInstallation.objects.get(
            tenant=world_a.tenant, plugin__slug="review-requests"
        ),
        actor=world_a.owner,
        enabled=False,
    )
    drain()
    assert mail.outbox == []
    delivery.refresh_from_db()
    assert delivery.status == "SKIPPED"


def test_redelivery_to_an_unsubscribed_customer_is_refused(world_a, api):
    from notifications.links import link_token
    from plugins.data.services import customer_unsubscribe

    delivery = _complete(world_a)
    drain()
    assert len(mail.outbox) == 1
    token = link_token(
        purpose="unsubscribe", tenant=world_a.tenant, value=str(world_a.customer.public_id)
    )
    customer_unsubscribe(tenant=world_a.tenant, token=token)
    client = api(HOST_A, world_a.manager)
    response = client.post(f"/api/deliveries/{delivery.public_id}/redeliver/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "delivery_not_redeliverable"
    drain()
    assert len(mail.outbox) == 1


def test_a_cancelled_delivery_is_not_redelivered(world_a, api):
    from plugins.models import PluginTemplate
    from plugins.services import plugin_uninstall

    delivery = _complete(world_a)
    plugin_uninstall(
        tenant=world_a.tenant, plugin=PluginTemplate.objects.get(slug="review-requests"),
        actor=world_a.owner,
    )  # fmt: skip
    delivery.refresh_from_db()
    assert delivery.status == "CANCELLED"
    response = api(HOST_A, world_a.manager).post(f"/api/deliveries/{delivery.public_id}/redeliver/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "delivery_not_redeliverable"
    drain()
    assert mail.outbox == []
