"""Text PostgreSQL cannot store (NUL, unpaired surrogates) is a 400 on every route of both hosts,
wherever it is: a path segment, the query string, a header, a JSON or form body. The routes come
from the URL routers, so a new endpoint is covered the day it is added."""

import json
import uuid

from django.urls import reverse
from rest_framework.test import APIClient

from config.tests.routes import Route, platform_routes, tenant_routes, url_for
from conftest import HOST_A, PLATFORM_HOST, bearer
from users.roles import Role

TENANT_ROUTES = tenant_routes()
# The admin's routes are mostly unnamed (not reversible); the guard in front of them is the same,
# see test_the_admin_sign_in_form_refuses_nul_too.
PLATFORM_ROUTES = [route for route in platform_routes() if not route.name.startswith("admin:")]


def _with_nul_in_path(url: str) -> str:
    """``url`` with a NUL (percent-encoded) inside its last path segment."""
    head, _slash, last = url.rstrip("/").rpartition("/")
    return f"{head}/{last[:2]}%00{last[2:]}" + ("/" if url.endswith("/") else "")


def _refused(response) -> bool:
    if response.status_code != 400 or response["Content-Type"] != "application/json":
        return False
    error = response.json()["error"]
    return error["code"] == "unstorable_text" and bool(error["fields"])


def _assert_refused(response, where: str) -> None:
    assert _refused(response), (where, response.status_code, response.content[:300])


def _let_through(client: APIClient, route: Route, url: str, host: str) -> list[str]:
    """Where ``route`` did not refuse a NUL: path, query, header, JSON or form body."""
    send = getattr(client, route.method)
    attempts = {
        "path": lambda: send(_with_nul_in_path(url), HTTP_HOST=host),
        "query": lambda: send(f"{url}?search=a%00b", HTTP_HOST=host),
        "header": lambda: send(url, HTTP_HOST=host, headers={"Idempotency-Key": "a\x00b"}),
    }
    if route.method != "get":
        attempts["json body"] = lambda: send(
            url, data='{"name": "a\\u0000b"}', content_type="application/json", HTTP_HOST=host
        )
        attempts["form body"] = lambda: send(
            url, data="name=a%00b", content_type="application/x-www-form-urlencoded",
            HTTP_HOST=host,
        )  # fmt: skip
    return [f"{route.id}: {where}" for where, sent in attempts.items() if not _refused(sent())]


def test_every_business_route_refuses_unstorable_text(world_a):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(world_a.owner, "alpha"))
    let_through = []
    for route in TENANT_ROUTES:
        let_through += _let_through(client, route, url_for(route, world_a), HOST_A)
    assert len(TENANT_ROUTES) > 50
    assert not let_through


def test_every_platform_route_refuses_unstorable_text(tenant_a, make_user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(make_user(Role.SUPERUSER), "public"))
    values = {"tenant_id": tenant_a.public_id, "grant_id": uuid.uuid4(), "slug": "webhooks"}
    let_through = []
    for route in PLATFORM_ROUTES:
        kwargs = {name: values[name] for name in route.kwargs}
        url = reverse(route.name, urlconf="config.urls_platform", kwargs=kwargs)
        let_through += _let_through(client, route, url, PLATFORM_HOST)
    assert len(PLATFORM_ROUTES) > 10
    assert not let_through


def test_a_json_body_names_the_field_with_nul(world_a, api):
    response = api(HOST_A, world_a.owner).post(
        "/api/customers/", data='{"name": "a\\u0000b"}', content_type="application/json"
    )
    _assert_refused(response, "json body")
    assert list(response.json()["error"]["fields"]) == ["name"]


def test_nul_in_a_custom_domain_path_is_a_400_not_a_500(world_a, api):
    client = api(HOST_A, world_a.owner)
    for url in ("/api/domains/a%00b.example.org/", "/api/domains/a%00b.example.org/verify/"):
        response = client.delete(url) if "verify" not in url else client.post(url)
        _assert_refused(response, url)
        assert response.json()["error"]["fields"] == {"path": [response.json()["error"]["message"]]}


def test_nul_in_the_calendar_feed_url_is_a_400_without_credentials(world_a, api):
    _assert_refused(api(HOST_A).get(f"/api/calendar/{world_a.stylist.ical_token}%00.ics"), "feed")


def test_nul_in_an_idempotency_key_is_a_400_naming_the_header(world_a, api):
    response = api(HOST_A, world_a.owner).post(
        "/api/appointments/",
        {"service": str(world_a.cut.public_id), "starts_at": world_a.at(15).isoformat()},
        format="json",
        headers={"Idempotency-Key": "retry\x00-1"},
    )
    _assert_refused(response, "header")
    assert list(response.json()["error"]["fields"]) == ["Idempotency-Key"]


def test_an_unpaired_surrogate_in_json_is_a_400_naming_the_nested_field(world_a, api):
    body = json.dumps({"name": "ok", "working_hours": [{"weekday": "\ud800"}]})
    response = api(HOST_A, world_a.owner).post(
        "/api/resources/", data=body, content_type="application/json"
    )
    _assert_refused(response, "surrogate")
    assert list(response.json()["error"]["fields"]) == ["working_hours.0.weekday"]


def test_nul_in_a_multipart_form_field_is_a_400(world_a, api):
    response = api(HOST_A, world_a.owner).post(
        "/api/domains/", {"domain": "a\x00b.example.org"}, format="multipart"
    )
    _assert_refused(response, "multipart")


def test_the_admin_sign_in_form_refuses_nul_too(db):
    response = APIClient().post(
        "/admin/login/", {"username": "a\x00b", "password": "x"}, HTTP_HOST=PLATFORM_HOST
    )
    _assert_refused(response, "admin form")


def test_text_without_nul_passes_the_guard(world_a, api):
    response = api(HOST_A, world_a.owner).post(
        "/api/customers/", {"name": "Zoë \u00a0Ünïcode 🙂"}, format="json"
    )
    assert response.status_code == 201, response.json()
