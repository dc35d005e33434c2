"""API paths answer JSON whatever DEBUG is: unknown paths, oversized bodies, wrong content
types, unexpected exceptions. ``/`` and ``/api/`` list the host's entry points."""

import pytest
from django.contrib import admin
from rest_framework.test import APIClient

from conftest import HOST_A, PLATFORM_HOST
from console.api.users import MeView
from users.roles import Role

pytestmark = pytest.mark.django_db

DEBUG_ON_AND_OFF = pytest.mark.parametrize("debug", [True, False], ids=["debug", "no-debug"])


def _json_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == code, error
    return error


@DEBUG_ON_AND_OFF
@pytest.mark.parametrize("host", [HOST_A, PLATFORM_HOST])
@pytest.mark.parametrize("path", ["/api/nothing-here/", "/api/resources/not-an-id/", "/nope"])
def test_an_unknown_path_is_a_json_404(settings, api, debug, host, path):
    settings.DEBUG = debug
    _json_error(api(host).get(path), 404, "not_found")


@DEBUG_ON_AND_OFF
def test_an_oversized_json_body_is_a_json_413(settings, api, make_user, tenant_a, debug):
    settings.DEBUG = debug
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client = api(HOST_A, make_user(Role.TENANT_OWNER, tenant_a))
    response = client.post("/api/customers/", {"name": "x", "notes": "n" * 2000}, format="json")
    error = _json_error(response, 413, "request_too_large")
    assert "1000 bytes" in error["message"]


@DEBUG_ON_AND_OFF
def test_oversized_multipart_fields_are_a_json_413(settings, api, make_user, tenant_a, debug):
    settings.DEBUG = debug
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client = api(HOST_A, make_user(Role.TENANT_OWNER, tenant_a))
    for send in (client.post, client.put):  # Django parses POST forms, DRF the others
        response = send("/api/tenant/logo/", {"note": "n" * 2000}, format="multipart")
        _json_error(response, 413, "request_too_large")


@DEBUG_ON_AND_OFF
def test_a_sign_in_form_over_the_limit_is_a_json_413(settings, debug):
    settings.DEBUG = debug
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = APIClient().post(
        "/api/auth/token/", {"email": "a@b.c", "password": "p" * 2000}, HTTP_HOST=PLATFORM_HOST
    )
    _json_error(response, 413, "request_too_large")


@DEBUG_ON_AND_OFF
def test_a_wrong_content_type_is_a_json_415(settings, api, make_user, tenant_a, debug):
    settings.DEBUG = debug
    client = api(HOST_A, make_user(Role.TENANT_OWNER, tenant_a))
    response = client.post("/api/customers/", data="name=x", content_type="text/plain")
    _json_error(response, 415, "unsupported_media_type")


def test_a_content_length_that_is_not_a_number_is_a_json_400(api):
    response = api(HOST_A).post("/api/auth/token/", data="{}", content_type="application/json",
                                CONTENT_LENGTH="lots")  # fmt: skip
    _json_error(response, 400, "bad_request")


@DEBUG_ON_AND_OFF
def test_an_unexpected_exception_is_a_json_500(
    settings, api, make_user, tenant_a, monkeypatch, debug
):
    settings.DEBUG = debug

    def broken(self, request):
        raise RuntimeError("boom")

    monkeypatch.setattr(MeView, "get", broken)
    client = api(HOST_A, make_user(Role.TENANT_OWNER, tenant_a))
    client.raise_request_exception = False
    error = _json_error(client.get("/api/me/"), 500, "server_error")
    assert ("boom" in error["message"]) is debug  # details only for developers


def test_the_test_client_still_sees_an_unexpected_exception(api, make_user, tenant_a, monkeypatch):
    monkeypatch.setattr(MeView, "get", lambda self, request: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        api(HOST_A, make_user(Role.TENANT_OWNER, tenant_a)).get("/api/me/")


def test_a_path_without_its_trailing_slash_is_redirected_keeping_the_method(api):
    response = api(HOST_A).post("/api/auth/token?x=1", {"email": "a@b.c"}, format="json")
    assert response.status_code == 308
    assert response["Location"] == "/api/auth/token/?x=1"


@pytest.mark.parametrize("path", ["/", "/api/"])
@pytest.mark.parametrize(("host", "kind"), [(HOST_A, "business"), (PLATFORM_HOST, "platform")])
def test_the_index_lists_the_entry_points(api, path, host, kind):
    body = api(host).get(path).json()
    assert body["host"] == kind
    links = body["links"]
    assert links["docs"] == f"http://{host}/api/docs/"
    assert links["schema"] == f"http://{host}/api/schema/"
    assert links["health"] == f"http://{host}/health/"
    assert links["ready"] == f"http://{host}/ready/"
    assert ("admin" in links) is (kind == "platform")
    client = api(host)
    for name in ("docs", "schema", "sign_in"):
        assert client.get(links[name]).status_code in (200, 405), name
    # The probes are answered by the routing middleware, never by the catch-all 404 route.
    assert client.get(links["health"]).json() == {"status": "ok"}
    assert client.get(links["ready"]).json()["status"] in ("ok", "unavailable")


def test_the_admins_view_site_link_opens_the_api_docs(api):
    site_url = str(admin.site.site_url)
    assert site_url == "/api/docs/"
    response = api(PLATFORM_HOST).get(site_url)
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()
