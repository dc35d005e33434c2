"""Per-tenant e-mail templates: sandboxed Jinja2, only the documented variables, refused with a
400 naming the field when they would not render."""

from __future__ import annotations

import io
from datetime import timedelta
from email.mime.image import MIMEImage
from email.utils import parseaddr

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django_tenants.utils import tenant_context
from PIL import Image

from conftest import HOST_A
from core.checks import email_is_delivered
from plugins.tests.helpers import drain, install

GOOD = {
    "subject": "See you {{ appointment.starts_at }}, {{ customer.name }}",
    "text_body": "Hi {{ customer.name }} from {{ business.name }}. {{ unsubscribe_url }}",
    "html_body": "<p>Hi {{ customer.name }}</p>",
}


@pytest.mark.parametrize(
    ("field", "source", "fragment"),
    [
        ("subject", "{{ nobody.name }}", "undefined"),
        ("text_body", "{% for x in %}", "TemplateSyntaxError"),
        ("html_body", "{{ customer.__class__.__mro__ }}", "unsafe"),
        ("text_body", "{{ 1 / 0 }}", "division"),
    ],
)
def test_a_template_that_does_not_render_is_a_400_naming_the_field(
    world_a, api, field, source, fragment
):
    response = api(HOST_A, world_a.manager).put(
        "/api/email-templates/reminder/", {**GOOD, field: source}, format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_template" and list(error["fields"]) == [field]
    assert fragment in error["fields"][field][0]


def test_the_tenants_own_template_is_used_and_can_be_reset(world_a, api):
    install(world_a.tenant, "appointment-reminders")
    client = api(HOST_A, world_a.manager)
    saved = client.put("/api/email-templates/reminder/", GOOD, format="json")
    assert saved.status_code == 200 and saved.json()["customized"] is True
    assert "customer" in saved.json()["variables"]
    start = world_a.appointment.starts_at
    drain(now=start - timedelta(hours=24) + timedelta(seconds=1))
    (message,) = mail.outbox
    assert message.subject.startswith("See you ") and message.subject.endswith("Cara Customer")
    assert message.body.startswith("Hi Cara Customer from Alpha Salon.")
    assert client.delete("/api/email-templates/reminder/").status_code == 204
    assert client.get("/api/email-templates/reminder/").json()["customized"] is False
    assert client.get("/api/email-templates/nope/").status_code == 404
    kinds = [t["kind"] for t in client.get("/api/email-templates/").json()]
    assert kinds == [
        "reminder",
        "review_request",
        "agenda",
        "booking_confirmation",
        "webhook_disabled",
    ]


def test_html_bodies_escape_what_customers_typed(world_a):
    from notifications.templates import render

    world_a.customer.name = "<script>x</script>"
    rendered = render("review_request", {
        "business": {"name": "A", "logo": False}, "customer": {"name": world_a.customer.name},
        "appointment": {"service": "Cut", "starts_at": "now"}, "review_url": "u",
        "unsubscribe_url": "u",
    })  # fmt: skip
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html
    assert "<script>" in rendered.text


def test_emails_carry_the_business_name_and_its_logo_inline(world_a, local_media):
    tenant = world_a.tenant
    tenant.name = 'Alpha, "Salon" & Spa'
    image = io.BytesIO()
    Image.new("RGB", (8, 8), "teal").save(image, format="PNG")
    with tenant_context(tenant):
        tenant.logo.save("logo.png", ContentFile(image.getvalue()), save=True)
    install(tenant, "appointment-reminders")
    drain(now=world_a.appointment.starts_at - timedelta(hours=24) + timedelta(seconds=1))
    (message,) = mail.outbox
    assert parseaddr(message.message()["From"])[0] == 'Alpha, "Salon" & Spa'
    (logo,) = [part for part in message.attachments if isinstance(part, MIMEImage)]
    assert logo["Content-ID"] == "<logo>"
    assert 'src="cid:logo"' in message.alternatives[0][0]


def test_the_deploy_check_says_when_email_reaches_no_one(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    assert [w.id for w in email_is_delivered()] == ["core.W012"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    assert email_is_delivered() == []
