"""Plugin records of a test world (``appointments.tests.world``), made on demand in the
world's schema, for the generated route tests and the plugins' own tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django_tenants.utils import tenant_context

from appointments.tests.world import World
from notifications.links import link_token
from notifications.models import Channel, Delivery, OutboxEvent
from notifications.webhooks import secret_generate
from plugin_data.models import Review, WebhookEndpoint


@dataclass(frozen=True)
class PluginObjects:
    endpoint: WebhookEndpoint
    delivery: Delivery
    review: Review


def plugin_objects(world: World) -> PluginObjects:
    with tenant_context(world.tenant):
        endpoint = WebhookEndpoint.objects.create(
            url="https://93.184.215.14/hook", secret=secret_generate()
        )
        review = Review.objects.filter(appointment=world.appointment).first() or (
            Review.objects.create(
                appointment=world.appointment, service=world.appointment.service,
                customer=world.customer, rating=4,
            )
        )  # fmt: skip
    event = OutboxEvent.objects.create(tenant=world.tenant, kind="appointment.created")
    delivery = Delivery.objects.create(
        event=event, tenant=world.tenant, plugin="webhooks", channel=Channel.WEBHOOK,
        recipient=str(endpoint.public_id), message={"body": "{}"}, status="SENT",
    )  # fmt: skip
    return PluginObjects(endpoint=endpoint, delivery=delivery, review=review)


def plugin_token(route: Any, world: World) -> str:
    if route.name == "unsubscribe":
        value, purpose = world.customer.public_id, "unsubscribe"
    else:
        value, purpose = world.appointment.public_id, "review"
    return link_token(purpose=purpose, tenant=world.tenant, value=str(value))
