"""Cross-origin browser front ends (tenancy/cors.py): which origins may call which host's API,
preflights that never need credentials, and credentials only for cookie-using origins."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.test import Client

from conftest import HOST_A, HOST_B, PASSWORD, PLATFORM_HOST
from tenancy.models import Tenant
from users.roles import Role

APP = "http://localhost:5173"  # a Vite dev server, listed platform-wide
SITE = "https://book.alpha.example"  # tenant alpha's own booking site
ELSEWHERE = "https://evil.example"


@pytest.fixture(autouse=True)
def platform_origins(settings) -> None:
    settings.CORS_ALLOWED_ORIGINS = [APP]


def preflight(host: str, path: str, origin: str, headers: str = "authorization,content-type"):
    return Client().options(
        path,
        HTTP_HOST=host,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS=headers,
    )


def set_origins(api, owner, origins: list[str]):
    return api(HOST_A, owner).patch(
        "/api/tenant/settings/", {"cors_allowed_origins": origins}, format="json"
    )


@pytest.mark.django_db
def test_a_preflight_needs_no_credentials_and_names_what_a_front_end_sends() -> None:
    response = preflight(HOST_A, "/api/appointments/", APP, "authorization,idempotency-key")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == APP
    allowed = response["Access-Control-Allow-Headers"]
    assert {"authorization", "content-type", "idempotency-key"} <= set(allowed.split(", "))
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in response  # a token client sends no cookies


@pytest.mark.django_db
def test_answers_expose_the_headers_a_front_end_reads(api, make_user, tenant_a) -> None:
    response = api(HOST_A, make_user(Role.TENANT_OWNER, tenant_a)).get("/api/me/", HTTP_ORIGIN=APP)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == APP
    assert "Retry-After" in response["Access-Control-Expose-Headers"]
    assert "origin" in response["Vary"].lower()


@pytest.mark.django_db
def test_unlisted_origins_and_pages_outside_the_api_get_no_cors_headers() -> None:
    assert "Access-Control-Allow-Origin" not in preflight(HOST_A, "/api/me/", ELSEWHERE)
    admin = Client().get("/admin/login/", HTTP_HOST=PLATFORM_HOST, HTTP_ORIGIN=APP)
    assert "Access-Control-Allow-Origin" not in admin


@pytest.mark.django_db
def test_a_tenants_own_origin_opens_its_hosts_only(api, make_user, tenant_a, security_lines):
    owner = make_user(Role.TENANT_OWNER, tenant_a)
    assert "Access-Control-Allow-Origin" not in preflight(HOST_A, "/api/services/", SITE)

    response = set_origins(api, owner, [SITE])
    assert response.status_code == 200, response.json()
    assert response.json()["cors_allowed_origins"] == [SITE]

    assert preflight(HOST_A, "/api/services/", SITE)["Access-Control-Allow-Origin"] == SITE
    assert "Access-Control-Allow-Origin" not in preflight(HOST_B, "/api/services/", SITE)
    assert "Access-Control-Allow-Origin" not in preflight(PLATFORM_HOST, "/api/me/", SITE)
    [event] = [e for e in security_lines() if e["event"] == "tenant_cors_origins_changed"]
    assert (event["actor"]["email"], event["previous"], event["origins"]) == (
        owner.email, [], [SITE]
    )  # fmt: skip


@pytest.mark.django_db
def test_origins_are_stored_as_browsers_send_them(api, make_user, tenant_a) -> None:
    owner = make_user(Role.TENANT_OWNER, tenant_a)
    response = set_origins(
        api, owner, ["HTTPS://Book.Alpha.Example:443/", "http://localhost:3000", SITE]
    )
    assert response.json()["cors_allowed_origins"] == [SITE, "http://localhost:3000"]


@pytest.mark.parametrize(
    "origin",
    ["*", "book.alpha.example", "ftp://x.example", "https://x.example/path", "https://u@x.example",
     "https://x.example:99999", "null"],
)  # fmt: skip
@pytest.mark.django_db
def test_what_is_not_an_origin_is_a_400_naming_the_field(api, make_user, tenant_a, origin):
    response = set_origins(api, make_user(Role.TENANT_OWNER, tenant_a), [origin])
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert "is not an origin" in response.json()["error"]["fields"]["cors_allowed_origins"][0]


@pytest.mark.django_db
def test_only_the_owner_changes_the_origins(api, make_user, tenant_a) -> None:
    manager = make_user(Role.TENANT_MANAGER, tenant_a)
    answer = set_origins(api, manager, [SITE])
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "permission_denied"
    assert Tenant.objects.get(pk=tenant_a.pk).cors_allowed_origins == []


@pytest.mark.django_db
def test_the_database_refuses_what_is_not_an_origin(tenant_a) -> None:
    for bad in (["*"], ["https://x.example/"], [f"https://h{n}.example" for n in range(21)]):
        with pytest.raises(IntegrityError), transaction.atomic():
            Tenant.objects.filter(pk=tenant_a.pk).update(cors_allowed_origins=bad)


@pytest.mark.django_db
def test_credentials_only_for_origins_trusted_with_the_session_cookie(
    settings, make_user, tenant_a
) -> None:
    cookie_app = "https://app.alpha.example"
    settings.CORS_ALLOWED_ORIGINS = [APP, cookie_app]
    settings.CSRF_TRUSTED_ORIGINS = [cookie_app]
    assert preflight(HOST_A, "/api/me/", cookie_app)["Access-Control-Allow-Credentials"] == "true"
    assert "Access-Control-Allow-Credentials" not in preflight(HOST_A, "/api/me/", APP)

    owner = make_user(Role.TENANT_OWNER, tenant_a)
    page = Client(enforce_csrf_checks=True, HTTP_HOST=HOST_A)
    signed_in = page.post(
        "/api/auth/session/", {"email": owner.email, "password": PASSWORD},
        content_type="application/json", HTTP_ORIGIN=cookie_app,
    )  # fmt: skip
    assert signed_in.status_code == 200
    assert signed_in["Access-Control-Allow-Credentials"] == "true"
    write = {"name": "Walk-in"}
    csrf = signed_in.json()["csrf_token"]
    trusted = page.post(
        "/api/customers/", write, content_type="application/json",
        HTTP_ORIGIN=cookie_app, HTTP_X_CSRFTOKEN=csrf,
    )  # fmt: skip
    assert trusted.status_code == 201, trusted.json()
    # A token-only origin may read answers, but cannot write with a signed-in user's cookie.
    untrusted = page.post(
        "/api/customers/", write, content_type="application/json",
        HTTP_ORIGIN=APP, HTTP_X_CSRFTOKEN=csrf,
    )  # fmt: skip
    assert untrusted.status_code == 403
    assert untrusted.json()["error"]["code"] == "permission_denied"
