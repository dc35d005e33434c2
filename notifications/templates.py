"""E-mail templates: the defaults shipped here, and each tenant's own versions of them.

Templates are Jinja2 rendered in a ``SandboxedEnvironment`` with ``StrictUndefined``: they see
only the documented variables of their kind (``VARIABLES``), cannot reach Python internals, and
a template that does not render is refused when it is saved (400 naming the field), never when
an e-mail goes out. HTML bodies are autoescaped.

Work is bounded too (``BoundedEnvironment``), at save and at send alike: ``**`` and ``*`` are
not folded at compile time and refuse huge results, ``range`` is capped, every loop iteration and
every call spends one step of a per-render budget (``EMAIL_TEMPLATE_MAX_STEPS``) checked against a
wall clock (``EMAIL_TEMPLATE_RENDER_SECONDS``), and no string a template builds or outputs may
exceed ``EMAIL_TEMPLATE_MAX_CHARS``. A template that exceeds a bound fails like any other: refused
at save, and at send the default template is used instead.
"""

from __future__ import annotations

import contextvars
import functools
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from jinja2 import StrictUndefined, TemplateError, nodes, pass_context
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from core.exceptions import DomainError
from plugin_data.models import EmailTemplate

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

MAX_RANGE = 10_000
# A width, count or exponent a template may pass to a filter or method ("x"|center(n)).
MAX_ARGUMENT = 100_000
MAX_POWER_BITS = 4_096
_WIDE_FORMAT = re.compile(r"%[^a-zA-Z%]*\d{6,}|\{[^}]*\d{6,}[^}]*\}")


class TemplateTooCostly(SecurityError):
    """The template does more work than an e-mail may (steps, time or size)."""


class _Budget:
    def __init__(self) -> None:
        self.steps = settings.EMAIL_TEMPLATE_MAX_STEPS
        self.deadline = time.monotonic() + settings.EMAIL_TEMPLATE_RENDER_SECONDS

    def spend(self, steps: int = 1) -> None:
        self.steps -= steps
        if self.steps < 0:
            raise TemplateTooCostly("The template does too much work (too many loop steps).")
        if time.monotonic() > self.deadline:
            raise TemplateTooCostly("The template takes too long to render.")


_budget: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar(
    "email_template_budget", default=None
)


def _spend(steps: int = 1) -> None:
    budget = _budget.get()
    if budget is None:  # rendered outside ``_bounded_render`` (e.g. compiling): a fresh budget
        budget = _Budget()
        _budget.set(budget)
    budget.spend(steps)


def _check_size(value: Any) -> Any:
    if (
        isinstance(value, str | list | tuple | dict)
        and len(value) > settings.EMAIL_TEMPLATE_MAX_CHARS
    ):
        raise TemplateTooCostly("The template builds text longer than an e-mail may be.")
    return value


def _check_argument(value: Any) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_ARGUMENT:
        raise TemplateTooCostly(f"Numbers passed to filters are at most {MAX_ARGUMENT}.")
    if isinstance(value, str) and _WIDE_FORMAT.search(value):
        raise TemplateTooCostly("Format widths are at most 5 digits.")


@pass_context
def _loop_budget(context: Any, iterable: Iterable[Any]) -> Iterator[Any]:
    """Wrapped around every ``{% for %}``'s iterable: each iteration spends a step."""
    for item in iterable:
        _spend()
        yield item


def _capped_range(*args: int) -> range:
    for arg in args:
        _check_argument(arg)
    values = range(*args)
    if len(values) > MAX_RANGE:
        raise TemplateTooCostly(f"range() is limited to {MAX_RANGE} items.")
    return values


def _bounded_filter(function: Any) -> Any:
    @functools.wraps(function)  # keeps jinja's pass_context / pass_eval_context marker
    def bounded(*args: Any, **kwargs: Any) -> Any:
        for value in (*args[1:], *kwargs.values()):
            _check_argument(value)
        if function.__name__ == "do_format" or any(isinstance(a, str) for a in args[:1]):
            for value in args[:2]:
                if isinstance(value, str) and _WIDE_FORMAT.search(value):
                    raise TemplateTooCostly("Format widths are at most 5 digits.")
        return _check_size(function(*args, **kwargs))

    return bounded


class _BoundedCodeGenerator(CodeGenerator):
    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        # ``a ~ b``: the joined string is checked for size (a namespace doubling in a loop).
        self.write("environment.check_size(")
        super().visit_Concat(node, frame)
        self.write(")")


class BoundedEnvironment(SandboxedEnvironment):
    """A sandbox that also bounds the work a template can do (see the module's docstring)."""

    code_generator_class = _BoundedCodeGenerator
    # Intercepted operators are never folded at compile time, so ``{{ 7**(7**11) }}`` is
    # refused when it runs instead of hanging the compiler.
    intercepted_binops = frozenset({"**", "*", "+", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals["range"] = _capped_range
        self.filters = {name: _bounded_filter(f) for name, f in self.filters.items()}
        self.filters["_loop_budget"] = _loop_budget

    @staticmethod
    def check_size(value: Any) -> Any:
        return _check_size(value)

    @staticmethod
    def concat(parts: Iterable[str]) -> str:  # block bodies: {% set x %}, macros, caller()
        return _check_size("".join(parts))

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Filter(
                loop.iter, "_loop_budget", [], [], None, None, lineno=loop.lineno
            )
        return tree

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _spend()
        numbers = all(isinstance(v, int) and not isinstance(v, bool) for v in (left, right))
        if (
            operator == "**"
            and numbers
            and right > 0
            and abs(left) > 1
            and abs(left).bit_length() * right > MAX_POWER_BITS
        ):
            raise TemplateTooCostly("The power is too large.")
        if operator == "*":
            if numbers and left.bit_length() + right.bit_length() > MAX_POWER_BITS:
                raise TemplateTooCostly("The product is too large.")
            for sequence, count in ((left, right), (right, left)):
                if (
                    isinstance(sequence, str | list | tuple)
                    and isinstance(count, int)
                    and len(sequence) * count > settings.EMAIL_TEMPLATE_MAX_CHARS
                ):
                    raise TemplateTooCostly("The template builds text too long.")
        if operator == "%" and isinstance(left, str) and _WIDE_FORMAT.search(left):
            raise TemplateTooCostly("Format widths are at most 5 digits.")
        return _check_size(super().call_binop(context, operator, left, right))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _spend()
        for value in (*args, *kwargs.values()):
            _check_argument(value)
        if getattr(__obj, "__name__", "") in ("format", "format_map"):
            # The sandbox hands out str.format wrapped (``__wrapped__`` is the bound method).
            _check_argument(getattr(getattr(__obj, "__wrapped__", __obj), "__self__", None))
        return _check_size(super().call(__context, __obj, *args, **kwargs))

    def getattr(self, obj: Any, attribute: str) -> Any:
        _spend()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _spend()
        return super().getitem(obj, argument)


_text_env = BoundedEnvironment(undefined=StrictUndefined, autoescape=False)
_html_env = BoundedEnvironment(undefined=StrictUndefined, autoescape=True)


def _bounded_render(env: BoundedEnvironment, source: str, context: dict[str, Any]) -> str:
    """Compile and render ``source`` within one budget of steps, time and output size."""
    token = _budget.set(_Budget())
    try:
        template = env.from_string(source)
        out: list[str] = []
        size = 0
        for chunk in template.generate(context):
            size += len(chunk)
            if size > settings.EMAIL_TEMPLATE_MAX_CHARS:
                raise TemplateTooCostly("The rendered text is longer than an e-mail may be.")
            _spend(0)
            out.append(chunk)
        return "".join(out)
    finally:
        _budget.reset(token)


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
    subject = _bounded_render(_text_env, source.subject, context)
    return Rendered(
        subject=" ".join(subject.split())[:300],
        text=_bounded_render(_text_env, source.text_body, context),
        html=_bounded_render(_html_env, source.html_body, context),
    )


def template_errors(kind: str, source: TemplateSource) -> dict[str, list[str]]:
    """Per field, why it would not render with the documented variables of ``kind``."""
    errors: dict[str, list[str]] = {}
    for field in FIELDS:
        env = _html_env if field == "html_body" else _text_env
        try:
            _bounded_render(env, getattr(source, field), SAMPLES[kind])
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
