"""Rate limits and quotas, counted in a real Redis of the test's own (production's cache
settings): per tenant, per API key and API-key calls per day, answering 429 with Retry-After
and RateLimit headers; one tenant at its limit leaves another alone; a Redis outage neither
fails requests nor blocks them."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client

from apikeys.services import api_key_create
from conftest import HOST_A, HOST_B, PLATFORM_HOST
from core.tests.test_cache_outage import free_port, own_redis, use_redis_at
from users.roles import Role

__all__ = ["own_redis"]

pytestmark = pytest.mark.django_db

UNLIMITED = {"tenant_requests": None, "api_key_requests": None}


@pytest.fixture
def limits(settings, own_redis):
    """Production's cache on a Redis of this test's own, and a function setting the BUSINESS
    tier's limits (the session's tenants are BUSINESS)."""
    port, _running = own_redis
    use_redis_at(settings, port)
    settings.RATE_LIMIT_WINDOW_SECONDS = 3600

    def set_limits(**business: int | None) -> None:
        settings.TIER_RATE_LIMITS = {
            **settings.TIER_RATE_LIMITS,
            "BUSINESS": {**UNLIMITED, **business},
        }

    return set_limits


def rate_headers(response) -> tuple[int, int, int]:
    return (
        int(response["RateLimit-Limit"]),
        int(response["RateLimit-Remaining"]),
        int(response["RateLimit-Reset"]),
    )


def test_a_tenant_past_its_limit_gets_429_with_headers_and_another_tenant_does_not(api, limits):
    limits(tenant_requests=3)
    client = api(HOST_A)
    for remaining in (2, 1, 0):
        response = client.get("/api/services/")
        assert response.status_code == 401  # counted, then refused for lack of credentials
        limit, left, reset = rate_headers(response)
        assert (limit, left) == (3, remaining) and 0 < reset <= 3600
        assert response["RateLimit-Policy"] == "3;w=3600"
    refused = client.get("/api/services/")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "throttled"
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert rate_headers(refused)[:2] == (3, 0)

    other = api(HOST_B).get("/api/services/")
    assert other.status_code == 401 and rate_headers(other)[:2] == (3, 2)
    platform = api(PLATFORM_HOST).get("/api/me/")
    assert platform.status_code == 401 and "RateLimit-Limit" not in platform


def _get(host: str, path: str) -> tuple[int, dict[str, str]]:
    try:
        response = Client(HTTP_HOST=host).get(path)
        return response.status_code, dict(response.headers)
    finally:
        connection.close()


def test_under_concurrent_load_exactly_the_limit_gets_through(limits):
    limits(tenant_requests=10)
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: _get(HOST_A, "/api/services/"), range(40)))
    statuses = [status for status, _ in answers]
    assert statuses.count(401) == 10 and statuses.count(429) == 30, statuses
    remaining = sorted(int(headers["RateLimit-Remaining"]) for _, headers in answers)
    assert remaining == [0] * 31 + list(range(1, 10))
    for status, headers in answers:
        if status == 429:
            assert int(headers["Retry-After"]) > 0 and headers["RateLimit-Limit"] == "10"


def _issue(tenant, owner, scopes=("customers:read",)) -> Client:
    secret = api_key_create(tenant=tenant, actor=owner, name="k", scopes=list(scopes)).secret
    return Client(HTTP_HOST=HOST_A, HTTP_AUTHORIZATION=f"Api-Key {secret}")


def test_each_key_has_its_own_limit_below_the_tenants(api, limits, make_user, tenant_a):
    limits(tenant_requests=100, api_key_requests=2)
    owner = make_user(Role.TENANT_OWNER, tenant_a)
    first, second = _issue(tenant_a, owner), _issue(tenant_a, owner)
    assert [first.get("/api/customers/").status_code for _ in range(2)] == [200, 200]
    refused = first.get("/api/customers/")
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "throttled"
    assert int(refused["Retry-After"]) > 0
    # The tightest limit met is the one shown: the key's.
    assert rate_headers(refused)[:2] == (2, 0)
    assert second.get("/api/customers/").status_code == 200
    signed_in = api(HOST_A, owner).get("/api/customers/")
    assert signed_in.status_code == 200 and rate_headers(signed_in)[0] == 100


def test_api_key_calls_per_day_are_a_tier_quota(settings, limits, make_user, tenant_a):
    limits()
    settings.TIER_QUOTAS = {
        **settings.TIER_QUOTAS,
        "BUSINESS": {"bookings_per_month": None, "api_calls_per_day": 2},
    }
    owner = make_user(Role.TENANT_OWNER, tenant_a)
    first, second = _issue(tenant_a, owner), _issue(tenant_a, owner)
    assert first.get("/api/customers/").status_code == 200
    assert second.get("/api/customers/").status_code == 200
    refused = first.get("/api/customers/")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "quota_exceeded"
    assert 0 < int(refused["Retry-After"]) <= 24 * 3600
    assert refused["RateLimit-Policy"] == "2;w=86400"


def test_health_probes_and_cors_preflights_are_not_counted(api, limits, settings):
    limits(tenant_requests=1)
    settings.CORS_ALLOWED_ORIGINS = ["https://book.example.com"]
    client = api(HOST_A)
    for _ in range(3):
        assert client.get("/health/").status_code == 200
        preflight = client.options(
            "/api/services/",
            HTTP_ORIGIN="https://book.example.com",
            HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        )
        assert preflight.status_code == 200
    assert client.get("/api/services/").status_code == 401
    refused = client.get("/api/services/", HTTP_ORIGIN="https://book.example.com")
    assert refused.status_code == 429
    # The refusal is readable by the page: CORS headers, and the rate headers exposed.
    assert refused["Access-Control-Allow-Origin"] == "https://book.example.com"
    assert "RateLimit-Remaining" in refused["Access-Control-Expose-Headers"]


def test_a_redis_outage_neither_fails_nor_blocks_requests(api, settings, make_user, tenant_a):
    use_redis_at(settings, free_port())  # nothing listens there
    settings.TIER_RATE_LIMITS = {
        **settings.TIER_RATE_LIMITS,
        "BUSINESS": {"tenant_requests": 3, "api_key_requests": None},
    }
    owner = make_user(Role.TENANT_OWNER, tenant_a)
    client = api(HOST_A, owner)
    statuses = [client.get("/api/customers/").status_code for _ in range(4)]
    # Counted in this process's memory meanwhile: still limited, never a 500.
    assert statuses == [200, 200, 200, 429]
