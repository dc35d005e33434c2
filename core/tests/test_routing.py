"""Requests reach a tenant by host name, and nothing else does."""

import pytest

from conftest import HOST_A, PLATFORM_HOST
from tenancy.models import Domain
from tenancy.services import tenant_update
from users.roles import Role

pytestmark = pytest.mark.django_db


def test_unknown_host_gets_json_404(api):
    response = api("nobody.localhost").get("/api/me/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "unknown_host"


def test_malformed_host_gets_json_400(api):
    response = api("bad host!").get("/api/me/")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_host"


def test_host_with_port_routes_to_the_tenant(api, make_user, tenant_a):
    user = make_user(Role.TENANT_OWNER, tenant_a)
    assert api(f"{HOST_A}:8000", user, issued_on="alpha").get("/api/me/").status_code == 200


def test_platform_host_serves_the_platform_api_and_not_tenant_routes(api, make_user):
    client = api(PLATFORM_HOST, make_user(Role.SUPERUSER))
    assert client.get("/api/platform/tenants/").status_code == 200
    answer = client.get("/api/users/")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


def test_tenant_host_does_not_serve_the_platform_api_or_admin(api, make_user, tenant_a):
    client = api(HOST_A, make_user(Role.TENANT_OWNER, tenant_a))
    answer = client.get("/api/platform/tenants/")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"
    assert client.get("/admin/").status_code == 404


def test_suspended_tenant_gets_json_error_and_no_data(api, make_user, tenant_a):
    owner = make_user(Role.TENANT_OWNER, tenant_a)
    tenant_update(tenant=tenant_a, actor=make_user(Role.SUPERUSER), status="SUSPENDED")
    for path in ["/api/me/", "/api/users/", "/api/auth/token/"]:
        response = api(HOST_A, owner).get(path)
        assert response.status_code == 403
        body = response.json()
        assert body == {"error": {"code": "tenant_suspended", "message": body["error"]["message"]}}


def test_unverified_custom_domain_serves_nothing(api, make_user, tenant_a):
    Domain.objects.create(
        domain="book.alpha-salon.test", tenant=tenant_a, is_primary=False, is_custom_domain=True
    )
    owner = make_user(Role.TENANT_OWNER, tenant_a)
    answer = api("book.alpha-salon.test", owner, issued_on="alpha").get("/api/me/")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "unknown_host"


def test_verified_custom_domain_serves_the_tenant(api, make_user, tenant_a):
    Domain.objects.create(
        domain="book.alpha-salon.test",
        tenant=tenant_a,
        is_primary=False,
        is_custom_domain=True,
        verification_status=Domain.Verification.VERIFIED,
    )
    owner = make_user(Role.TENANT_OWNER, tenant_a)
    response = api("book.alpha-salon.test", owner, issued_on="alpha").get("/api/me/")
    assert response.status_code == 200
    assert response.json()["tenant"] == "alpha"


def test_unknown_path_on_a_tenant_host_is_json_404(api):
    response = api(HOST_A).get("/no/such/page/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_openapi_schema_and_docs_are_served(api):
    schema = api(PLATFORM_HOST).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert api(HOST_A).get("/api/docs/").status_code == 200


def test_each_host_documents_its_own_api(api):
    accept = {"HTTP_ACCEPT": "application/vnd.oai.openapi+json"}
    platform_paths = api(PLATFORM_HOST).get("/api/schema/", **accept).json()["paths"]
    tenant_paths = api(HOST_A).get("/api/schema/", **accept).json()["paths"]
    assert "/api/platform/tenants/" in platform_paths
    assert "/api/platform/tenants/" not in tenant_paths
    assert "/api/users/" in tenant_paths


def test_host_routes_are_cached_and_forgotten_when_a_tenant_changes(
    api, make_user, tenant_a, django_assert_num_queries
):
    from tenancy.selectors import domain_for_host, routes_forget

    routes_forget()
    domain_for_host(HOST_A)
    with django_assert_num_queries(0):
        assert domain_for_host(HOST_A).tenant == tenant_a
    tenant_update(tenant=tenant_a, actor=make_user(Role.SUPERUSER), status="SUSPENDED")
    answer = api(HOST_A).get("/api/me/")
    assert answer.status_code == 403  # not served from a stale route
    assert answer.json()["error"]["code"] == "tenant_suspended"


def test_cached_routes_hand_out_separate_tenant_instances(tenant_a):
    from tenancy.selectors import domain_for_host

    first, second = domain_for_host(HOST_A), domain_for_host(HOST_A)
    assert first.tenant is not second.tenant


def test_api_docs_page_uses_bundled_swagger_ui(api):
    html = api(HOST_A).get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn.jsdelivr" not in html
