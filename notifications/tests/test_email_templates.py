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


# --- Bounded work: a template cannot hang the save request or a worker ------------------------

COSTLY = [
    "{{ 7**(7**5) }}",
    "{{ 'x' * 10**9 }}",
    "{{ 'a'|center(999999999) }}",
    "{{ '%999999999d' % 1 }}",
    "{{ '{:999999999}'.format(1) }}",
    "{{ 'a'.ljust(10**8) }}",
    "{% for i in range(6000) %}{% for j in range(6000) %}{% endfor %}{% endfor %}",
    "{% set ns = namespace(s='a') %}{% for i in range(40) %}"
    "{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
    "{% set x %}{% for i in range(9000) %}{{ 'a' * 100 }}{% endfor %}{% endset %}{{ x }}",
]


@pytest.mark.parametrize("source", COSTLY)
def test_a_template_doing_unbounded_work_is_refused_quickly_at_save(world_a, api, source):
    import time

    start = time.monotonic()
    response = api(HOST_A, world_a.manager).put(
        "/api/email-templates/reminder/", {**GOOD, "text_body": source}, format="json"
    )
    assert time.monotonic() - start < 10
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_template" and list(error["fields"]) == ["text_body"]


def test_a_huge_constant_power_is_refused_instead_of_hanging_the_compiler():
    """Plain Jinja folds ``7**(7**11)`` while compiling: the save request would never return.
    Run in a subprocess so that, were it to hang, the test fails on its timeout."""
    import os
    import subprocess
    import sys

    code = (
        "import django; django.setup();"
        "from notifications.templates import template_errors, TemplateSource as T;"
        "print(template_errors('reminder', T('{{ 7**(7**11) }}', 'x', 'x')))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    done = subprocess.run(
        [sys.executable, "-c", code], timeout=60, check=True, env=env, capture_output=True,
        text=True,
    )  # fmt: skip
    assert "TemplateTooCostly" in done.stdout and "subject" in done.stdout


def test_a_data_dependent_loop_is_cut_short_at_send_and_the_default_goes_out(world_a, api):
    import time

    from notifications.templates import render, template_errors

    slow = (
        '{% if customer.name != "Mia Jones" %}{% for i in range(9000) %}{% for j in range(9000) %}'
        "{% for k in range(9000) %}{% endfor %}{% endfor %}{% endfor %}{% endif %}"
        "Hi {{ customer.name }}"
    )
    saved = api(HOST_A, world_a.manager).put(
        "/api/email-templates/reminder/", {**GOOD, "text_body": slow}, format="json"
    )
    assert saved.status_code == 200  # the sample customer is "Mia Jones": the check passes
    context = {
        "business": {"name": "A", "logo": False}, "customer": {"name": "Cara Customer"},
        "appointment": {"service": "Cut", "starts_at": "x", "ends_at": "y", "timezone": "UTC",
                        "resources": []},
        "hours_before": 2, "unsubscribe_url": "u",
    }  # fmt: skip
    with tenant_context(world_a.tenant):
        start = time.monotonic()
        rendered = render("reminder", context)
        assert time.monotonic() - start < 5
    assert "Cara Customer" in rendered.text and "range" not in rendered.text
    assert template_errors("reminder", _source(GOOD)) == {}


def test_ordinary_templates_still_render_with_loops_and_arithmetic():
    from notifications.templates import TemplateSource, template_errors

    body = (
        "{% for r in appointment.resources %}{{ loop.index }}. {{ r|upper }}{% endfor %} "
        "{{ range(10)|join(',') }} {{ 2**10 }} {{ '-' * 20 }} {{ '%5.1f' % 2.5 }}"
    )
    assert (
        template_errors("reminder", TemplateSource("s", body, "<p>{{ customer.name }}</p>")) == {}
    )


def _source(values):
    from notifications.templates import TemplateSource

    return TemplateSource(values["subject"], values["text_body"], values["html_body"])
