"""Host routes are shared by every worker through Django's cache, and a change to a tenant or a
domain reaches every worker's next request: a second server process plays the other worker."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager
from decimal import Decimal
from pathlib import Path

import pytest
import redis

from appointments.tests.live import Answer, request
from conftest import HOST_A, bearer, connection
from core.tests.processes import answers, free_port, server_process
from tenancy import selectors
from tenancy.models import Domain, Tenant
from tenancy.provisioning import on_own_connection
from tenancy.services import tenant_update
from users.roles import Role
from users.tests.factories import UserFactory

REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_answers() -> bool:
    return answers(6379)


@pytest.fixture
def shared_cache(settings) -> Iterator[dict]:
    """Redis as the default cache, under a key prefix of this test's own (the Redis server is
    shared with parallel test processes); its keys are removed afterwards."""
    prefix = f"test-routes-{uuid.uuid4().hex}"
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    settings.CACHES = caches
    yield caches
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def other_worker(tmp_path: Path, caches: dict) -> AbstractContextManager[int]:
    """A second server process on this test database and the same cache."""
    database = {
        key: connection.settings_dict[key]
        for key in ("ENGINE", "NAME", "USER", "PASSWORD", "HOST", "PORT")
    }
    return server_process(
        tmp_path,
        "from config.settings.test import *  # noqa: F403\n"
        f"DATABASES = {{'default': {database!r}}}\n"
        f"CACHES = {caches!r}\n",
    )


@pytest.mark.skipif(
    not _redis_answers(), reason="no Redis on 127.0.0.1:6379 (make test starts one)"
)
def test_a_change_in_one_worker_reaches_the_next_request_of_another(db, shared_cache, tmp_path):
    on_own_connection(lambda: _two_workers(shared_cache, tmp_path))


def fee_of(answer: Answer) -> str:
    return answer.body["late_cancellation_fee_percent"]


def _two_workers(caches: dict, tmp_path: Path) -> None:
    # Committed for real (the other process cannot see into a test's transaction), then undone.
    tenant = Tenant.objects.get(schema_name="alpha")
    fee_before = tenant.late_cancellation_fee_percent
    owner = UserFactory.create(role=Role.TENANT_OWNER, tenant=tenant)
    second_host = f"second-{uuid.uuid4().hex[:8]}.localhost"
    Domain.objects.create(domain=second_host, tenant=tenant, is_primary=False)
    try:
        with other_worker(tmp_path, caches) as port:

            def get(host: str = HOST_A) -> Answer:
                return request(
                    port, "GET", "/api/billing/settings/", host=host,
                    Authorization=bearer(owner, "alpha"),
                )  # fmt: skip

            shown_before = fee_of(get())
            # The other worker keeps alpha's route in the shared cache: a change that bypasses
            # the models (and so their signals) does not reach it...
            Tenant.objects.filter(pk=tenant.pk).update(late_cancellation_fee_percent=17)
            assert fee_of(get()) == shown_before
            # ...one made the ordinary way reaches its very next request.
            tenant_update(tenant=tenant, actor=owner, late_cancellation_fee_percent=Decimal(35))
            assert fee_of(get()) == "35.00"
            tenant_update(tenant=tenant, actor=owner, status=Tenant.Status.SUSPENDED)
            assert get().body["error"]["code"] == "tenant_suspended"
            tenant_update(tenant=tenant, actor=owner, status=Tenant.Status.ACTIVE)
            assert get().status == 200

            assert get(second_host).status == 200
            Domain.objects.filter(domain=second_host).delete()
            assert get(second_host).body["error"]["code"] == "unknown_host"
    finally:
        connection.set_schema_to_public()
        Tenant.objects.filter(pk=tenant.pk).update(
            status=Tenant.Status.ACTIVE, late_cancellation_fee_percent=fee_before
        )
        Domain.objects.filter(domain=second_host).delete()
        owner.delete()
        selectors.routes_forget()


def test_routing_reads_the_database_while_the_cache_is_down(
    settings, api, make_user, tenant_a, monkeypatch, caplog
):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
        }
    }
    monkeypatch.setattr(selectors, "_cache_unusable_until", 0.0)
    owner = make_user(Role.TENANT_OWNER, tenant_a)
    assert api(HOST_A, owner).get("/api/me/").status_code == 200
    tenant_update(tenant=tenant_a, actor=owner, status=Tenant.Status.SUSPENDED)
    reply = api(HOST_A, owner).get("/api/me/")
    assert reply.status_code == 403
    assert reply.json()["error"]["code"] == "tenant_suspended"
    reply = api("nobody.localhost").get("/api/me/")
    assert reply.status_code == 404
    assert reply.json()["error"]["code"] == "unknown_host"
    warnings = [r for r in caplog.records if "route cache unavailable" in r.getMessage()]
    assert len(warnings) == 1  # said once, not on every request


@pytest.mark.skipif(
    not _redis_answers(), reason="no Redis on 127.0.0.1:6379 (make test starts one)"
)
def test_hundreds_of_hosts_stay_cached_and_a_lookup_then_reads_nothing(
    tenant_a, shared_cache, django_assert_num_queries
):
    hosts = [f"many-{i}.localhost" for i in range(300)]
    Domain.objects.bulk_create(Domain(domain=host, tenant=tenant_a) for host in hosts)
    for host in hosts:
        assert selectors.domain_for_host(host).tenant.pk == tenant_a.pk
    with django_assert_num_queries(0):
        for host in hosts:
            assert selectors.domain_for_host(host).tenant.pk == tenant_a.pk


def test_a_renamed_domain_stops_routing_under_its_old_name(api, tenant_a):
    domain = Domain.objects.create(domain="old-name.localhost", tenant=tenant_a)
    reply = api("old-name.localhost").get("/api/me/")
    assert reply.status_code == 401  # routed; no credentials
    assert reply.json()["error"]["code"] == "not_authenticated"
    domain.domain = "new-name.localhost"
    domain.save()
    reply = api("old-name.localhost").get("/api/me/")
    assert reply.status_code == 404
    assert reply.json()["error"]["code"] == "unknown_host"
    reply = api("new-name.localhost").get("/api/me/")
    assert reply.status_code == 401
    assert reply.json()["error"]["code"] == "not_authenticated"
