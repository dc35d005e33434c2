"""Registering webhook endpoints: the SSRF guard's allow-list (IPv6 forms that carry an IPv4
address included), what its refusal says, who sees an endpoint's full URL, how many a business
may have."""

from __future__ import annotations

import pytest

from conftest import HOST_A
from core.models import AuditEvent
from notifications.webhooks import address_is_public, url_redacted
from plugins.tests.helpers import install
from users.roles import Role


@pytest.mark.parametrize(
    "url",
    [
        "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/",  # NAT64 of 169.254.169.254
        "http://[64:ff9b::a00:5]/",  # NAT64 of 10.0.0.5
        "http://[64:ff9b:1::7f00:1]/",  # local-use NAT64 (RFC 8215)
        "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
        "http://[::127.0.0.1]/",  # IPv4-compatible 127.0.0.1
        "http://[::ffff:0:7f00:1]/",  # IPv4-translated (SIIT)
        "http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/",  # Teredo (server 65.54.227.120)
        "http://[fec0::1]/",  # deprecated site-local
        "http://[2001:db8::1]/",  # documentation
    ],
)
def test_ipv6_forms_reaching_internal_ipv4_or_non_global_space_are_refused(world_a, api, url):
    install(world_a.tenant, "webhooks")
    response = api(HOST_A, world_a.manager).post(
        "/api/webhooks/endpoints/", {"url": url}, format="json"
    )
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["code"] == "unsafe_webhook_target"


def test_public_addresses_pass_the_allow_list():
    assert address_is_public("93.184.215.14")
    assert address_is_public("2606:2800:21f:cb07:6820:80da:af6b:8b2c")
    assert not address_is_public("100.64.0.1")  # carrier-grade NAT


def test_an_unsafe_target_refusal_does_not_reveal_what_the_host_resolves_to(world_a, api):
    install(world_a.tenant, "webhooks")
    response = api(HOST_A, world_a.manager).post(
        "/api/webhooks/endpoints/", {"url": "http://localhost/"}, format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert "127.0.0.1" not in str(error) and "::1" not in str(error)
    assert error["code"] == "unsafe_webhook_target" and "url" in error["fields"]


def test_only_the_businesss_plugin_managers_see_full_webhook_urls(world_a, api, make_user):
    install(world_a.tenant, "webhooks")
    url = "https://93.184.215.14/services/T000/B000?token=SeCrEtToKeN"
    created = api(HOST_A, world_a.manager).post(
        "/api/webhooks/endpoints/", {"url": url}, format="json"
    )
    assert created.status_code == 201 and created.json()["url"] == url
    managers = api(HOST_A, world_a.manager).get("/api/webhooks/endpoints/").json()["results"]
    assert managers[0]["url"] == url
    staff = api(HOST_A, world_a.staff).get("/api/webhooks/endpoints/").json()["results"]
    assert staff[0]["url"] == "https://93.184.215.14/..."
    support = api(HOST_A, make_user(Role.PLATFORM_SUPPORT), issued_on="public")
    assert support.get("/api/webhooks/endpoints/").json()["results"][0]["url"] == (
        "https://93.184.215.14/..."
    )
    assert not AuditEvent.objects.filter(details__url=url).exists()
    assert AuditEvent.objects.filter(
        action="webhook_endpoint_created", details__url="https://93.184.215.14/..."
    ).exists()


def test_url_redaction_keeps_scheme_host_and_port():
    assert url_redacted("http://[2606:2800::1]:8443/a?b=c") == "http://[2606:2800::1]:8443/..."
    assert url_redacted("https://hooks.example.com/") == "https://hooks.example.com/"


def test_a_business_has_at_most_the_configured_number_of_endpoints(world_a, api, settings):
    settings.WEBHOOK_ENDPOINTS_PER_TENANT = 3
    install(world_a.tenant, "webhooks")
    client = api(HOST_A, world_a.manager)
    for i in range(3):
        response = client.post(
            "/api/webhooks/endpoints/", {"url": f"https://93.184.215.14/{i}"}, format="json"
        )
        assert response.status_code == 201
    response = client.post(
        "/api/webhooks/endpoints/", {"url": "https://93.184.215.14/more"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "webhook_endpoint_limit"
