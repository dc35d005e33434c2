"""A real browser app on another origin: a page served by its own server (as a Vite or Next dev
server would) signs a customer in on the business's host and books, in headless Chromium. Until
the business lists the page's origin the browser refuses to let it read any answer; once the
owner adds it through the tenant settings API, the preflighted calls (JSON bodies, bearer token,
Idempotency-Key) go through without any credentials on the preflight."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from appointments.models import Allocation, Appointment
from appointments.tests.live import committed_schedule, request, serving
from conftest import HOST_A, PASSWORD, bearer, connection
from customers.models import Customer
from tenancy.models import Tenant
from tenancy.provisioning import on_own_connection
from tenancy.services import tenant_cors_origins_set
from users.tests.factories import UserFactory

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip

# The whole front end: a form, and the fetch calls a booking page makes.
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Book</title></head><body>
<form id="book">
  <input id="api" name="api"><input id="email" name="email"><input id="password" name="password">
  <input id="service" name="service"><input id="day" name="day">
  <button type="submit">Sign in and book</button>
</form>
<pre id="result"></pre>
<script>
document.getElementById("book").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = Object.fromEntries(new FormData(event.target));
  const show = (outcome) => {
    document.getElementById("result").textContent = JSON.stringify(outcome);
  };
  const json = {"Content-Type": "application/json"};
  try {
    const signIn = await fetch(`${form.api}/api/auth/token/`, {
      method: "POST", headers: json,
      body: JSON.stringify({email: form.email, password: form.password}),
    });
    const {access} = await signIn.json();
    const auth = {Authorization: `Bearer ${access}`};
    const services = await (await fetch(`${form.api}/api/services/`, {headers: auth})).json();
    const service = services.results.find((s) => s.name === form.service);
    const query = new URLSearchParams({service: service.id, start: form.day, end: form.day});
    const slots = await fetch(`${form.api}/api/availability/?${query}`, {headers: auth});
    const availability = await slots.json();
    const booked = await fetch(`${form.api}/api/appointments/`, {
      method: "POST", headers: {...json, ...auth, "Idempotency-Key": "page-booking-1"},
      body: JSON.stringify({service: service.id, starts_at: availability.slots[0].starts_at}),
    });
    show({status: booked.status, body: await booked.json()});
  } catch (refused) {
    show({refused: String(refused)});
  }
});
</script></body></html>"""


class _PageHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = PAGE.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def page_server() -> Iterator[int]:
    """The front end's own dev server on a free port; yields the port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PageHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"No browser: {CHROMIUM} is missing (Debian: apt-get install -y chromium)",
)


def test_a_page_on_another_origin_signs_in_and_books_once_the_business_allows_it(
    db, settings, monkeypatch
):
    settings.CORS_ALLOWED_ORIGINS = []  # this business's own list is what opens its host
    # Playwright's sync API keeps an event loop in the thread that drives it.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    on_own_connection(_page_books_through_the_api)


def _page_books_through_the_api() -> None:
    with committed_schedule() as world:
        customer_user = UserFactory.create(role="CUSTOMER", tenant=world.tenant)
        # Made before Playwright runs: database work inside its block would open a connection
        # this thread's cleanup never sees (Playwright switches greenlets).
        owner = bearer(world.owner, "alpha")
        try:
            with serving() as api_port, page_server() as page_port, browser_form() as submit:
                origin = f"http://localhost:{page_port}"
                api = f"http://{HOST_A}:{api_port}"
                form = {
                    "#api": api, "#email": customer_user.email, "#password": PASSWORD,
                    "#service": world.service.name, "#day": world.day.date().isoformat(),
                }  # fmt: skip
                refused = submit(f"{origin}/book.html", form)
                assert refused == {"refused": "TypeError: Failed to fetch"}

                allowed = request(
                    api_port, "PATCH", "/api/tenant/settings/", host=HOST_A,
                    body={"cors_allowed_origins": [origin]},
                    Authorization=owner,
                )  # fmt: skip
                assert allowed.status == 200, allowed.body

                outcome = submit(f"{origin}/book.html", form)
                assert outcome["status"] == 201, outcome
                assert outcome["body"]["service"] == str(world.service.public_id)
            connection.set_tenant(world.tenant)
            booked = Appointment.objects.get(public_id=outcome["body"]["id"])
            assert booked.customer.user_id == customer_user.pk
        finally:
            tenant_cors_origins_set(tenant=world.tenant, origins=[], actor=None)
            connection.set_tenant(world.tenant)
            Allocation.objects.filter(appointment__customer__user_id=customer_user.pk).delete()
            Appointment.objects.filter(customer__user_id=customer_user.pk).delete()
            Customer.objects.filter(user_id=customer_user.pk).delete()
            connection.set_schema_to_public()
            customer_user.delete()
    assert Tenant.objects.get(schema_name="alpha").cors_allowed_origins == []


@contextmanager
def browser_form() -> Iterator[Callable[[str, dict[str, str]], dict[str, Any]]]:
    """``submit(url, form)``: open ``url`` in a fresh headless Chromium page, fill ``form``
    (selector -> value), press its button and return the JSON the page shows."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        def submit(url: str, form: dict[str, str]) -> dict[str, Any]:
            page = browser.new_context().new_page()
            page.goto(url)
            for selector, value in form.items():
                page.fill(selector, value)
            page.click("button[type=submit]")
            page.wait_for_function("document.getElementById('result').textContent !== ''")
            return json.loads(page.inner_text("#result"))

        try:
            yield submit
        finally:
            browser.close()
