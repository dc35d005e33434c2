"""E-mail templates: the defaults shipped here, and each tenant's own versions of them.

Templates are Jinja2 rendered in a ``SandboxedEnvironment`` with ``StrictUndefined``: they see
only the documented variables of their kind (``VARIABLES``), cannot reach Python internals, and
a template that does not render is refused when it is saved (400 naming the field), never when
an e-mail goes out. HTML bodies are autoescaped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from core.exceptions import DomainError

DEFAULTS_DIR = Path(__file__).resolve().parent / "email"
FIELDS = ("subject", "text_body", "html_body")

_BUSINESS = {"name": "Name of the business", "logo": "True when the business has a logo; "
             "show it with <img src=\"cid:logo\">"}  # fmt: skip
VARIABLES: dict[str, dict[str, Any]] = {
    "reminder": {
        "business": _BUSINESS,
        "customer": {"name": "The customer's name"},
        "appointment": {
            "service": "Service name",
            "starts_at": "Start, in the customer's timezone (e.g. 'Mon 4 May 2026, 10:00')",
            "ends_at": "End, same format",
            "timezone": "The timezone those times are in",
            "resources": "List of the names of the people, rooms and equipment booked",
        },
        "hours_before": "How many hours before the start this reminder goes out",
        "unsubscribe_url": "Link that stops e-mails to this customer",
    },
    "review_request": {
        "business": _BUSINESS,
        "customer": {"name": "The customer's name"},
        "appointment": {"service": "Service name", "starts_at": "Start, customer's timezone"},
        "review_url": "Signed single-use link to rate the visit",
        "unsubscribe_url": "Link that stops e-mails to this customer",
    },
    "agenda": {
        "business": _BUSINESS,
        "staff": {"name": "The staff member's name"},
        "date": "The day, e.g. 'Monday 4 May 2026'",
        "appointments": "List of {starts_at, ends_at, service, customer, status} (local times)",
    },
    "booking_confirmation": {
        "business": _BUSINESS,
        "customer": {"name": "The name the guest booked under"},
        "appointment": {
            "service": "Service name",
            "starts_at": "Start, in the customer's timezone (e.g. 'Mon 4 May 2026, 10:00')",
            "ends_at": "End, same format",
            "timezone": "The timezone those times are in",
            "status": "PENDING (to be confirmed) or CONFIRMED",
        },
        "manage": {
            "view_url": "Signed link to see the booking, no account needed",
            "reschedule_url": "Signed link to move it (up to the cancellation window)",
            "cancel_url": "Signed link to cancel it (late fee inside the window)",
        },
    },
    "webhook_disabled": {
        "business": _BUSINESS,
        "endpoint": {"url": "The endpoint's URL"},
        "failures": "How many attempts in a row failed",
        "reason": "The last error",
    },
}
KINDS = tuple(VARIABLES)

_SAMPLE_BUSINESS = {"name": "Demo Salon", "logo": True}
SAMPLES: dict[str, dict[str, Any]] = {
    "reminder": {
        "business": _SAMPLE_BUSINESS,
        "customer": {"name": "Mia Jones"},
        "appointment": {
            "service": "Haircut",
            "starts_at": "Mon 4 May 2026, 10:00",
            "ends_at": "Mon 4 May 2026, 11:00",
            "timezone": "Europe/London",
            "resources": ["Ana"],
        },
        "hours_before": 24,
        "unsubscribe_url": "https://demo.example.com/api/unsubscribe/token/",
    },
    "review_request": {
        "business": _SAMPLE_BUSINESS,
        "customer": {"name": "Mia Jones"},
        "appointment": {"service": "Haircut", "starts_at": "Mon 4 May 2026, 10:00"},
        "review_url": "https://demo.example.com/api/reviews/submit/token/",
        "unsubscribe_url": "https://demo.example.com/api/unsubscribe/token/",
    },
    "agenda": {
        "business": _SAMPLE_BUSINESS,
        "staff": {"name": "Ana"},
        "date": "Monday 4 May 2026",
        "appointments": [
            {
                "starts_at": "10:00",
                "ends_at": "11:00",
                "service": "Haircut",
                "customer": "Mia Jones",
                "status": "CONFIRMED",
            },
        ],
    },
    "booking_confirmation": {
        "business": _SAMPLE_BUSINESS,
        "customer": {"name": "Mia Jones"},
        "appointment": {
            "service": "Haircut",
            "starts_at": "Mon 4 May 2026, 10:00",
            "ends_at": "Mon 4 May 2026, 11:00",
            "timezone": "Europe/London",
            "status": "CONFIRMED",
        },
        "manage": {
            "view_url": "https://demo.example.com/booking/manage/view#token=token",
            "reschedule_url": "https://demo.example.com/booking/manage/reschedule#token=token",
            "cancel_url": "https://demo.example.com/booking/manage/cancel#token=token",
        },
    },
    "webhook_disabled": {
        "business": _SAMPLE_BUSINESS,
        "endpoint": {"url": "https://hooks.example.com/smooth"},
        "failures": 20,
        "reason": "HTTP 500",
    },
}

_text_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
_html_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)


@dataclass(frozen=True)
class TemplateSource:
    subject: str
    text_body: str
    html_body: str


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def default_template(kind: str) -> TemplateSource:
    return TemplateSource(
        subject=(DEFAULTS_DIR / f"{kind}.subject.txt").read_text().strip(),
        text_body=(DEFAULTS_DIR / f"{kind}.txt").read_text(),
        html_body=(DEFAULTS_DIR / f"{kind}.html").read_text(),
    )


def _render(source: TemplateSource, context: dict[str, Any]) -> Rendered:
    subject = _text_env.from_string(source.subject).render(context)
    return Rendered(
        subject=" ".join(subject.split())[:300],
        text=_text_env.from_string(source.text_body).render(context),
        html=_html_env.from_string(source.html_body).render(context),
    )


def template_errors(kind: str, source: TemplateSource) -> dict[str, list[str]]:
    """Per field, why it would not render with the documented variables of ``kind``."""
    errors: dict[str, list[str]] = {}
    for field in FIELDS:
        env = _html_env if field == "html_body" else _text_env
        try:
            env.from_string(getattr(source, field)).render(SAMPLES[kind])
        except TemplateError as error:
            errors[field] = [f"{type(error).__name__}: {error}"]
        except Exception as error:  # e.g. {{ 1 / 0 }}: the template's own arithmetic
            errors[field] = [f"The template fails to render: {type(error).__name__}: {error}"]
    return errors


def template_validate(kind: str, source: TemplateSource) -> None:
    if kind not in VARIABLES:
        raise DomainError(f"No e-mail template '{kind}'.", fields={"kind": ["Unknown kind."]})
    errors = template_errors(kind, source)
    if errors:
        raise DomainError(
            "The template does not render with the documented variables.",
            code="invalid_template",
            fields=errors,
        )


def tenant_template(kind: str) -> TemplateSource:
    """The tenant's own version of ``kind`` (connection on its schema), else the default."""
    from plugin_data.models import EmailTemplate

    own = EmailTemplate.objects.filter(kind=kind).first()
    if own is None:
        return default_template(kind)
    return TemplateSource(subject=own.subject, text_body=own.text_body, html_body=own.html_body)


def render(kind: str, context: dict[str, Any]) -> Rendered:
    """Render the tenant's template; should it fail anyway, the default (never a lost e-mail)."""
    try:
        return _render(tenant_template(kind), context)
    except Exception:
        return _render(default_template(kind), context)
