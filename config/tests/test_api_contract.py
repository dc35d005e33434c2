"""The OpenAPI document is the contract, and schemathesis keeps it so.

For each host (platform ``localhost``, business ``alpha.localhost``) and each caller (owner,
staff, customer, superuser, a platform support operator, nobody), every operation of the document
the host serves is called with generated input, valid and invalid, through the real WSGI stack
and database. Each response must not be a server error, and its status code, content type and
body must be the ones the document promises. Examples are bounded and derandomized (Hypothesis
seeds each operation from the test's code), so a run is repeatable; each one runs in a savepoint
that is rolled back, so every call meets the same data.

Generated input rarely reaches the answers that need a story first (a replayed Idempotency-Key,
a rotated refresh token, a locked account, a DNS check queued for later), so the last tests tell
those stories with real requests and hold each answer to the same document and checks.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django_tenants.utils import tenant_context
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from appointments.models import Appointment
from appointments.services.offers import claim_token
from appointments.tests.group import issue13_objects
from closures.tests.world import world_closure
from config.tests.routes import BODIES, open_public_booking
from conftest import HOST_A, PLATFORM_HOST, bearer
from notifications.links import link_token
from plugins.tests.helpers import install
from plugins.tests.world import plugin_objects
from tenancy.models import Domain, Tenant
from tenancy.selectors import routes_changed
from users.roles import Role
from users.tests.factories import TEST_PASSWORD

APP = get_wsgi_application()
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
]
# Per operation and caller, drawn from valid input, invalid input and real objects' ids: over the
# callers every operation meets each kind several times, and the whole run stays within seconds
# (a run with 25 per operation found nothing more).
EXAMPLES_PER_OPERATION = 3
HYPOTHESIS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=list(HealthCheck),
)

TENANT_CALLERS = ["owner", "staff", "customer", "superuser", "anonymous"]
PLATFORM_CALLERS = ["superuser", "support", "anonymous"]


@pytest.fixture(autouse=True)
def fresh_sign_in_guard() -> Iterator[None]:
    """The sign-in guard counts attempts per address and per account in this process's cache:
    the generated sign-ins must neither meet earlier tests' counts nor leave theirs (or a locked
    account) to the tests that run next in this process."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def in_process_requests() -> Iterator[None]:
    """Requests share the test's connection and transaction, as with Django's test client:
    without this, request_started would close the connection in the middle of the test."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# Installed for the business's contract, so the marketplace's operations answer from installed
# plugins, not only "not installed".
CONTRACT_PLUGINS = ("webhooks", "review-requests", "appointment-reminders", "calendar-feed")


def _business_ids(world: Any) -> dict[str, Callable[[], str]]:
    """Path parameters naming objects that exist, so detail operations are reached too, not
    only their 404s (keyed by the start of the path)."""
    for slug in CONTRACT_PLUGINS:
        install(world.tenant, slug, actor=world.owner)
    open_public_booking(world.tenant)  # the public booking page answers, not only its 404
    plugins = plugin_objects(world)
    with tenant_context(world.tenant):  # a visit the customer may still review
        visit = Appointment.objects.create(
            customer=world.customer, service=world.cut, starts_at=world.at(9, days=-7),
            ends_at=world.at(10, days=-7), status="COMPLETED", price=world.cut.price,
        )  # fmt: skip
    links = {
        "unsubscribe": link_token(
            purpose="unsubscribe", tenant=world.tenant, value=str(world.customer.public_id)
        ),
        "review-submit": link_token(
            purpose="review", tenant=world.tenant, value=str(visit.public_id)
        ),
    }
    series, entry = issue13_objects(world)
    links["waitlist-claim"] = claim_token(tenant=world.tenant, entry=entry)
    return {
        "/api/appointment-series/{id}": lambda: str(series.public_id),
        "/api/waitlist/claim/{token}": lambda: links["waitlist-claim"],
        "/api/waitlist/{id}": lambda: str(entry.public_id),
        "/api/plugins/{slug}": lambda: "webhooks",
        "/api/installed-plugins/{slug}": lambda: "webhooks",
        "/api/webhooks/endpoints/{id}": lambda: str(plugins.endpoint.public_id),
        "/api/deliveries/{id}": lambda: str(plugins.delivery.public_id),
        "/api/reviews/{id}": lambda: str(plugins.review.public_id),
        "/api/email-templates/{kind}": lambda: "reminder",
        "/api/unsubscribe/{token}": lambda: links["unsubscribe"],
        "/api/reviews/submit/{token}": lambda: links["review-submit"],
        "/api/resources/{id}": lambda: str(world.stylist.public_id),
        "/api/date-overrides/{id}": lambda: str(world.override.public_id),
        "/api/services/{id}": lambda: str(world.cut.public_id),
        "/api/customers/{id}": lambda: str(world.customer.public_id),
        "/api/appointments/{id}": lambda: str(world.appointment.public_id),
        "/api/blockers/{id}": lambda: str(world.blocker.public_id),
        "/api/closures/{id}": lambda: str(world_closure(world).public_id),
        "/api/charges/{id}": lambda: str(world.charge.public_id),
        "/api/calendar/{token}": lambda: world.stylist.ical_token,
        "/api/domains/{domain}": lambda: HOST_A,
    }


def _strategy(operation: Any, real_ids: dict[str, Callable[[], str]]) -> Any:
    strategies = [
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    ]
    for prefix, real in real_ids.items():
        if operation.path.startswith(prefix):
            name = prefix.rsplit("{", 1)[1].rstrip("}")
            strategies.append(operation.as_strategy(path_parameters={name: real()}))
    return st.one_of(strategies)


def _run_operation(operation: Any, strategy: Any, call: Callable[[Any], None]) -> str | None:
    """Run one operation's examples; the failure report, if any."""

    @given(case=strategy)
    @HYPOTHESIS
    def examples(case: Any) -> None:
        with transaction.atomic():
            call(case)
            transaction.set_rollback(True)

    try:
        examples()
    except (FailureGroup, Exception) as failure:
        return f"{operation.label}:\n{failure}"
    return None


@functools.cache
def _served_document(host: str) -> dict[str, Any]:
    """The OpenAPI document ``host`` serves, fetched once per host and process: generating it
    takes a second, and it changes only with the code."""
    served = schemathesis.openapi.from_wsgi("/api/schema/?format=json", APP, headers={"Host": host})
    return served.raw_schema


def _check_contract(host: str, authorization: str | None, real_ids: dict) -> int:
    schema = schemathesis.openapi.from_dict(copy.deepcopy(_served_document(host)))
    # The caller's credentials are set below; generated tokens and cookies would only add 401s.
    schema.config.generation.update(with_security_parameters=False)
    headers = {"Authorization": authorization} if authorization else {}
    # Schemathesis' WSGI transport asks for gzip but does not decode it; availability's
    # compression is tested on its own (appointments/tests/test_availability_compact.py).
    headers["Accept-Encoding"] = "identity"
    count = 0

    def call(case: Any) -> None:
        nonlocal count
        count += 1
        case.call_and_validate(
            app=APP, base_url=f"http://{host}", headers=dict(headers), checks=CHECKS
        )

    failures = []
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result.err()
        operations.append(result.ok())
    assert len(operations) > 10, "the schema lists the host's operations"
    for operation in operations:
        failure = _run_operation(operation, _strategy(operation, real_ids), call)
        if failure:
            failures.append(failure)
    assert not failures, f"{len(failures)} operations break the contract:\n\n" + "\n\n".join(
        failures
    )
    assert count >= 2 * len(operations)
    return count


@pytest.mark.parametrize("caller", TENANT_CALLERS)
def test_the_business_api_keeps_its_openapi_contract(
    caller, world_a, make_user, in_process_requests, request
):
    users = {
        "owner": (world_a.owner, "alpha"),
        "staff": (world_a.staff, "alpha"),
        "customer": (world_a.customer_user, "alpha"),
        "superuser": (make_user(Role.SUPERUSER), "public"),
    }
    authorization = bearer(*users[caller]) if caller in users else None
    count = _check_contract(HOST_A, authorization, _business_ids(world_a))
    # The number of requests sent, in a JUnit report (--junitxml) as this test's property.
    request.node.user_properties.append(("schemathesis_cases", count))


@pytest.mark.parametrize("caller", PLATFORM_CALLERS)
def test_the_platform_api_keeps_its_openapi_contract(
    caller, tenant_a, make_user, in_process_requests, request
):
    users = {"superuser": Role.SUPERUSER, "support": Role.PLATFORM_SUPPORT}
    authorization = bearer(make_user(users[caller]), "public") if caller in users else None
    real_ids = {
        "/api/platform/tenants/{tenant_id}": lambda: str(tenant_a.public_id),
        "/api/plugins/{slug}": lambda: "webhooks",
    }
    count = _check_contract(PLATFORM_HOST, authorization, real_ids)
    # The number of requests sent, in a JUnit report (--junitxml) as this test's property.
    request.node.user_properties.append(("schemathesis_cases", count))


def _answer(
    host: str, path: str, method: str, *, authorization: str | None = None, **case: Any
) -> Any:
    """Send one request made of ``case`` (path parameters, headers, body) and hold its answer to
    what the document ``host`` serves says of ``method path``. Returns the answer as schemathesis
    saw it."""
    operation = schemathesis.openapi.from_dict(copy.deepcopy(_served_document(host)))[path][method]
    headers = {"Authorization": authorization} if authorization else {}
    return operation.Case(**case).call_and_validate(
        app=APP, base_url=f"http://{host}", headers=headers, checks=CHECKS
    )


def _documented_headers(host: str, path: str, method: str, status: int) -> set[str]:
    response = _served_document(host)["paths"][path][method.lower()]["responses"][str(status)]
    return set(response.get("headers", {}))


def _code(answer: Any) -> str:
    return answer.json()["error"]["code"]


def test_an_idempotent_replay_and_a_reused_key_answer_as_documented(world_a, in_process_requests):
    owner = bearer(world_a.owner, "alpha")
    body = BODIES[("appointment-list", "post")](world_a)
    key = {"Idempotency-Key": "contract-replay-1"}
    book = functools.partial(_answer, HOST_A, "/api/appointments/", "POST", authorization=owner)

    assert book(headers=key, body=body).status_code == 201
    replay = book(headers=key, body=body)
    assert replay.status_code == 200
    assert replay.headers["idempotent-replayed"] == ["true"]
    assert "Idempotent-Replayed" in _documented_headers(HOST_A, "/api/appointments/", "POST", 200)
    reused = book(headers=key, body={**body, "notes": "another body"})
    assert (reused.status_code, _code(reused)) == (409, "idempotency_key_reused")


def test_token_rotation_sign_out_and_password_change_answer_as_documented(
    make_user, tenant_a, in_process_requests
):
    user = make_user(Role.TENANT_OWNER, tenant_a)
    signed_in = _answer(
        HOST_A, "/api/auth/token/", "POST", body={"email": user.email, "password": TEST_PASSWORD}
    )
    assert signed_in.status_code == 200
    first = signed_in.json()
    rotated = _answer(
        HOST_A, "/api/auth/token/refresh/", "POST", body={"refresh": first["refresh"]}
    )
    assert rotated.status_code == 200
    spent = _answer(HOST_A, "/api/auth/token/refresh/", "POST", body={"refresh": first["refresh"]})
    assert (spent.status_code, _code(spent)) == (401, "token_not_valid")
    signed_out = _answer(
        HOST_A, "/api/auth/logout/", "POST", body={"refresh": rotated.json()["refresh"]}
    )
    assert signed_out.status_code == 204

    change = functools.partial(
        _answer, HOST_A, "/api/auth/password/", "POST", authorization=f"Bearer {first['access']}"
    )
    wrong = change(body={"old_password": "not-it-at-all", "new_password": "a-new-long-passphrase"})
    assert (wrong.status_code, _code(wrong)) == (400, "wrong_password")
    changed = change(body={"old_password": TEST_PASSWORD, "new_password": "a-new-long-passphrase"})
    assert changed.status_code == 200
    assert set(changed.json()) == {"access", "refresh"}


def test_a_locked_account_answers_429_as_documented(
    make_user, tenant_a, settings, in_process_requests
):
    user = make_user(Role.TENANT_STAFF, tenant_a)
    wrong = {"email": user.email, "password": "not-the-password"}
    statuses = [
        _answer(HOST_A, "/api/auth/token/", "POST", body=wrong).status_code
        for _ in range(settings.LOGIN_LOCKOUT_THRESHOLD)
    ]
    assert statuses == [401] * settings.LOGIN_LOCKOUT_THRESHOLD
    locked = _answer(HOST_A, "/api/auth/session/", "POST", body=wrong)
    assert (locked.status_code, _code(locked)) == (429, "sign_in_locked")
    assert int(locked.headers["retry-after"][0]) > 0
    assert "Retry-After" in _documented_headers(HOST_A, "/api/auth/session/", "POST", 429)


def test_a_verification_queued_for_later_answers_202_as_documented(
    make_user, tenant_a, silent_dns, task_queue, settings, in_process_requests
):
    settings.CUSTOM_DOMAIN_DNS_TIMEOUT_SECONDS = 0.3
    domain = Domain.objects.create(
        tenant=tenant_a, domain="slow.example.org", is_custom_domain=True
    )
    owner = bearer(make_user(Role.TENANT_OWNER, tenant_a), "alpha")

    queued = _answer(
        HOST_A, "/api/domains/{domain}/verify/", "POST", authorization=owner,
        path_parameters={"domain": domain.domain},
    )  # fmt: skip

    assert queued.status_code == 202
    assert queued.headers["retry-after"] == ["30"]
    assert "Retry-After" in _documented_headers(
        HOST_A, "/api/domains/{domain}/verify/", "POST", 202
    )
    assert task_queue() == [("core.tasks.verify_custom_domain", [domain.pk])]


def test_the_marketplace_walk_answers_as_documented(world_a, in_process_requests):
    """Install (consent, once), configure (schema-checked), rate, a webhook endpoint (secret
    shown, SSRF guard, rotation), an e-mail template (must render), a review link (works once),
    a redelivery and the uninstall: every answer held to the served document."""
    owner = bearer(world_a.owner, "alpha")
    call = functools.partial(_answer, HOST_A, authorization=owner)

    def slug(name: str) -> dict[str, Any]:
        return {"path_parameters": {"slug": name}}

    consent = {"accepted_permissions": ["appointments.read", "customers.read", "network.outbound"]}
    installed = call("/api/plugins/{slug}/install/", "POST", body=consent, **slug("webhooks"))
    assert installed.status_code == 201
    twice = call("/api/plugins/{slug}/install/", "POST", body=consent, **slug("webhooks"))
    assert (twice.status_code, _code(twice)) == (409, "plugin_already_installed")
    refused = call(
        "/api/plugins/{slug}/install/", "POST", body={"accepted_permissions": []},
        **slug("daily-agenda"),
    )  # fmt: skip
    assert (refused.status_code, _code(refused)) == (400, "permissions_not_accepted")
    install(world_a.tenant, "daily-agenda", actor=world_a.owner)
    configure = functools.partial(call, "/api/installed-plugins/{slug}/", "PATCH")
    bad = configure(body={"settings": {"hour": 25}}, **slug("daily-agenda"))
    assert (bad.status_code, _code(bad)) == (400, "invalid_settings")
    assert configure(body={"settings": {"hour": 6}}, **slug("daily-agenda")).status_code == 200
    rated = call("/api/plugins/{slug}/rating/", "PUT", body={"score": 5}, **slug("webhooks"))
    assert rated.status_code == 200

    endpoints = functools.partial(call, "/api/webhooks/endpoints/", "POST")
    unsafe = endpoints(body={"url": "http://127.0.0.1:9/hook"})
    assert (unsafe.status_code, _code(unsafe)) == (400, "unsafe_webhook_target")
    created = endpoints(body={"url": "https://93.184.215.14/hook"})
    assert created.status_code == 201 and created.json()["secret"].startswith("whsec_")
    rotated = call(
        "/api/webhooks/endpoints/{id}/rotate-secret/", "POST",
        path_parameters={"id": created.json()["id"]},
    )  # fmt: skip
    assert rotated.status_code == 200 and rotated.json()["secret"] != created.json()["secret"]

    template = functools.partial(
        call, "/api/email-templates/{kind}/", "PUT", path_parameters={"kind": "reminder"}
    )
    body = {"subject": "{{ nobody.name }}", "text_body": "t", "html_body": "<p>t</p>"}
    broken = template(body=body)
    assert (broken.status_code, _code(broken)) == (400, "invalid_template")
    assert template(body={**body, "subject": "See you {{ customer.name }}"}).status_code == 200

    install(world_a.tenant, "review-requests", actor=world_a.owner)
    with tenant_context(world_a.tenant):
        visit = Appointment.objects.create(
            customer=world_a.customer, service=world_a.cut, starts_at=world_a.at(9, days=-7),
            ends_at=world_a.at(10, days=-7), status="COMPLETED", price=world_a.cut.price,
        )  # fmt: skip
    token = link_token(purpose="review", tenant=world_a.tenant, value=str(visit.public_id))
    review = functools.partial(
        _answer, HOST_A, "/api/reviews/submit/{token}/", "POST", path_parameters={"token": token}
    )
    assert review(body={"rating": 4, "comment": "Lovely"}).status_code == 201
    again = review(body={"rating": 1})
    assert (again.status_code, _code(again)) == (409, "review_already_submitted")

    delivery = plugin_objects(world_a).delivery
    redelivered = call(
        "/api/deliveries/{id}/redeliver/", "POST", path_parameters={"id": str(delivery.public_id)}
    )
    assert redelivered.status_code == 202
    removed = call("/api/installed-plugins/{slug}/", "DELETE", **slug("webhooks"))
    assert removed.status_code == 204


def test_the_guest_walk_answers_as_documented(world_a, in_process_requests):
    """The public booking page, as nobody: hold a slot, book it with the hold (intake answers
    checked), view, reschedule, an old link refused, cancel, the used cancel link refused, and
    everything a 404 once the business switches public booking off."""
    open_public_booking(world_a.tenant)
    call = functools.partial(_answer, HOST_A)
    # The treatment needs the one room: a second hold of the slot is refused.
    slot = {"service": str(world_a.treatment.public_id), "starts_at": world_a.at(15).isoformat()}
    held = call("/api/public/holds/", "POST", body=slot)
    assert held.status_code == 201
    taken = call("/api/public/holds/", "POST", body=slot)
    assert (taken.status_code, _code(taken)) == (409, "resource_busy")
    guest = {**slot, "name": "Gina Guest", "email": "gina@example.com"}
    bad = call("/api/public/bookings/", "POST", body={**guest, "intake": ["not", "an", "object"]})
    assert (bad.status_code, _code(bad)) == (400, "invalid_intake")
    booked = call("/api/public/bookings/", "POST", body={**guest, "hold": held.json()["id"]})
    assert booked.status_code == 201
    links = booked.json()["manage"]
    viewed = call("/api/public/manage/", "POST", body={"token": links["view"]["token"]})
    assert viewed.status_code == 200
    moved = call(
        "/api/public/manage/reschedule/", "POST",
        body={"token": links["reschedule"]["token"], "starts_at": world_a.at(16).isoformat()},
    )  # fmt: skip
    assert moved.status_code == 200
    stale = call("/api/public/manage/", "POST", body={"token": links["view"]["token"]})
    assert (stale.status_code, _code(stale)) == (404, "invalid_link")
    cancel = {"token": moved.json()["manage"]["cancel"]["token"]}
    assert call("/api/public/manage/cancel/", "POST", body=cancel).status_code == 200
    used = call("/api/public/manage/cancel/", "POST", body=cancel)
    assert (used.status_code, _code(used)) == (404, "invalid_link")

    Tenant.objects.filter(pk=world_a.tenant.pk).update(public_booking_enabled=False)
    routes_changed([HOST_A])
    off = call("/api/public/services/", "GET")
    assert (off.status_code, _code(off)) == (404, "not_found")
